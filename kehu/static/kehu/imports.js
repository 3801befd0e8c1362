// 导入客户: only the pickers of the chosen 导入目标 (员工 → 归属员工 + 分配方式, 部门 → 部门 +
// 分配方式, 公海 → none). The server renders the first state; this follows the radio buttons.
(function () {
  function show(target) {
    document.querySelectorAll(".import-target-field").forEach(function (el) {
      el.classList.toggle("d-none", !el.classList.contains("import-for-" + target));
    });
  }
  document.body.addEventListener("change", function (evt) {
    if (evt.target.matches && evt.target.matches('input[name="target"]')) show(evt.target.value);
  });
  const checked = document.querySelector('input[name="target"]:checked');
  if (checked) show(checked.value);
})();

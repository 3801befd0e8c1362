from kehu.core.registry import attachment_visibility, log_visibility, todo_counters

from .selectors import followup_list, todo_count

todo_counters.append(todo_count)
attachment_visibility["followups.followup"] = lambda user: followup_list(user=user)
log_visibility["followups.followup"] = lambda user: followup_list(user=user)

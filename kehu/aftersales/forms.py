"""The add/edit modals of 客户车辆 and of 维修订单/保养订单, and the transition modal.

Picking the customer of a new vehicle or order reloads the modal for that customer (its
contracts, its vehicles, its contact and address as defaults); the services validate again."""

from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils import timezone

from kehu.basics.models import DictEntry, DictKind
from kehu.core.forms import StyledFormMixin
from kehu.core.money import money_display
from kehu.customers.forms import customer_picker_field, fill_customer_picker
from kehu.documents.forms import DocumentForm

from .models import MaintenanceOrder, OnAccountOrder, RepairOrder, Vehicle

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def default_address(customer) -> str:
    """The customer's address as the seed shows it: 福建省厦门市思明区 + 详细地址."""
    address = customer.address or ""
    regions = "".join(
        r.name
        for r in (customer.province, customer.city, customer.district)
        if r and r.name not in address  # "湖里区港中路 1号" names its district already
    )
    return f"{regions}{address}"[:200]


def _reload_on_customer(form, url_name: str) -> None:
    """Choosing the customer reloads the add modal for it (``?customer=<id>``)."""
    form.fields["customer"].widget.attrs.update(
        {"hx-get": reverse(url_name), "hx-trigger": "change", "hx-target": "#modal-content"}
    )


def _chosen(form, name: str):
    value = form.data.get(name) if form.is_bound else form.initial.get(name)
    value = getattr(value, "pk", value)
    return (
        int(value)
        if value not in (None, "") and str(value).isdigit() and len(str(value)) < 19
        else None
    )


def _visible_customer(user, pk):
    from kehu.customers.selectors import visible_customers

    if pk is None or user is None:
        return None
    return (
        visible_customers(user).select_related("province", "city", "district").filter(pk=pk).first()
    )


def _documents(key: str, user):
    from kehu.documents.selectors import document_list
    from kehu.documents.types import registry

    return document_list(registry[key], user=user)


class VehicleForm(DocumentForm):
    customer = customer_picker_field()

    class Meta:
        model = Vehicle
        fields = [
            "name",
            "brand",
            "spec",
            "serial_number",
            "contact_name",
            "contact_phone",
            "contract",
            "maintenance_interval_days",
            "next_maintenance_at",
            "last_inspection_at",
            "inspection_due_at",
            "remark",
        ]
        widgets = {
            "next_maintenance_at": DATE,
            "last_inspection_at": DATE,
            "inspection_due_at": DATE,
            "remark": forms.TextInput(attrs={"col": "col-12"}),
        }
        help_texts = {"next_maintenance_at": "完成保养后按上次保养时间 + 保养周期自动计算"}

    field_order = ["customer", "name", "brand", "spec", "serial_number"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_vehicle_%s")
        super().__init__(*args, **kwargs)
        from kehu.sales.models import Contract

        self.fields["name"].required = True
        self.fields["name"].error_messages["required"] = "请填写车辆名称"
        self.fields["brand"].queryset = DictEntry.objects.filter(
            kind=DictKind.VEHICLE_BRAND, is_active=True
        )
        self.fields["brand"].empty_label = "未知"
        self.fields["brand"].error_messages["invalid_choice"] = "车辆品牌不存在或已停用"
        contract = self.fields["contract"]
        contract.required = False
        contract.empty_label = "不关联合同"
        contract.error_messages["invalid_choice"] = "合同不存在或不属于该客户"
        contract.label_from_instance = lambda c: f"{c.number} {c.name}（{c.get_kind_display()}）"
        contract.queryset = Contract.objects.none()
        if self.instance and self.instance.pk:
            del self.fields["customer"]
            customer_id = self.instance.customer_id
        else:
            self.fields["customer"].required = True
            self.fields["customer"].error_messages["required"] = "请选择客户"
            fill_customer_picker(self)
            _reload_on_customer(self, "vehicle_add")
            customer_id = _chosen(self, "customer")
            customer = _visible_customer(self.user, customer_id)
            if customer is not None and not self.is_bound:
                self.initial.setdefault("contact_name", customer.contact_name)
                self.initial.setdefault("contact_phone", customer.contact_phone)
        if customer_id is not None and self.user is not None:
            contract.queryset = (
                _documents("contract", self.user)
                .filter(customer_id=customer_id)
                .exclude(approval_status="void")
                .order_by("-created_at")
            )
            if self.instance and self.instance.contract_id:
                # the linked contract stays selectable, even for a user who may not list contracts
                contract.queryset = (
                    contract.queryset | Contract.objects.filter(pk=self.instance.contract_id)
                ).distinct()


class ServiceOrderForm(DocumentForm):
    has_items = True
    blank_rows = 2
    customer = customer_picker_field()
    amount = forms.CharField(label="订单金额", required=False, help_text="有明细时按明细合计")
    vehicle_key = "vehicle"

    class Meta:
        model = RepairOrder
        fields = [
            "order_kind",
            "vehicle",
            "contact_name",
            "contact_phone",
            "address",
            "reason",
            "service_mode",
            "service_at",
            "remark",
        ]
        widgets = {
            "service_at": DATETIME,
            "address": forms.TextInput(attrs={"col": "col-12"}),
            "reason": forms.TextInput(attrs={"col": "col-12"}),
            "remark": forms.TextInput(attrs={"col": "col-12"}),
        }

    field_order = [
        "customer",
        "vehicle",
        "order_kind",
        "service_mode",
        "service_at",
        "amount",
        "contact_name",
        "contact_phone",
        "address",
        "reason",
        "remark",
    ]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self._meta.model._meta.model_name}_%s")
        super().__init__(*args, **kwargs)
        vehicle = self.fields["vehicle"]
        vehicle.required = False
        vehicle.empty_label = "不指定车辆"
        vehicle.error_messages["invalid_choice"] = "车辆不存在或不属于该客户"
        vehicle.queryset = Vehicle.objects.none()
        vehicle.label_from_instance = lambda v: f"{v.name} {v.spec}（{v.number}）".replace(
            " （", "（"
        )
        self.fields["contact_name"].required = False
        self.fields["contact_phone"].required = False
        self.fields["service_at"].required = False
        if self.instance and self.instance.pk:
            del self.fields["customer"]
            customer_id = self.instance.customer_id
            self.initial.setdefault("amount", str(self.instance.amount))
        else:
            self.fields["customer"].required = True
            self.fields["customer"].error_messages["required"] = "请选择客户"
            chosen_vehicle = self._preselected_vehicle()
            if chosen_vehicle is not None:
                self.initial["customer"] = chosen_vehicle.customer_id
            fill_customer_picker(self)
            _reload_on_customer(self, f"{self._meta.model._meta.model_name}_add")
            customer_id = _chosen(self, "customer")
            customer = _visible_customer(self.user, customer_id)
            if customer is not None and not self.is_bound:
                source = (
                    chosen_vehicle if chosen_vehicle and chosen_vehicle.contact_name else customer
                )
                self.initial.setdefault("contact_name", source.contact_name)
                self.initial.setdefault("contact_phone", source.contact_phone)
                self.initial.setdefault("address", default_address(customer))
            if not self.is_bound:
                self.initial.setdefault(
                    "service_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M")
                )
        if customer_id is not None and self.user is not None:
            vehicle.queryset = (
                _documents("vehicle", self.user)
                .filter(customer_id=customer_id)
                .order_by("name", "id")
            )

    def _preselected_vehicle(self):
        """``?vehicle=<id>`` (报修 / 保养 from a vehicle's row): a vehicle the user sees, else
        the add view answers 404 (like a hidden customer)."""
        raw = self.initial.get("vehicle")
        if raw in (None, "") or self.is_bound:
            return None
        pk = int(raw) if str(raw).isdigit() and len(str(raw)) < 19 else None
        found = (
            _documents("vehicle", self.user).filter(pk=pk).first()
            if pk and self.user is not None
            else None
        )
        if found is None:
            self.preselect_error = "车辆不存在或无权查看"
        return found


class RepairOrderForm(ServiceOrderForm):
    class Meta(ServiceOrderForm.Meta):
        model = RepairOrder


class MaintenanceOrderForm(ServiceOrderForm):
    class Meta(ServiceOrderForm.Meta):
        model = MaintenanceOrder


class TransitionForm(StyledFormMixin, forms.Form):
    """One modal per step: the technician for 派工/改派, the reason for 取消/返工, else a note."""

    assignee = forms.TypedChoiceField(label="技术员", coerce=int, required=True)
    from_status = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    reason = forms.CharField(
        label="说明（选填）",
        required=False,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2, "col": "col-12"}),
    )

    def __init__(self, *args, step, technicians=(), actor=None, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        if order is not None and not self.is_bound:
            self.initial["from_status"] = order.status
        if step.assignee:
            field = self.fields["assignee"]
            field.choices = [(u.pk, str(u)) for u in technicians]
            field.error_messages["required"] = "请选择技术员"
            field.error_messages["invalid_choice"] = "技术员不存在或不能处理该订单"
            field.widget.attrs["col"] = "col-12"
            if not self.is_bound:
                ids = [u.pk for u in technicians]
                if order is not None and order.assignee_id in ids and step.key == "dispatch":
                    self.initial["assignee"] = order.assignee_id
                elif actor is not None and actor.pk in ids:
                    self.initial["assignee"] = actor.pk
        else:
            del self.fields["assignee"]
        if step.reason_required:
            label = "取消原因" if step.key == "cancel" else "返工原因"
            self.fields["reason"].label = label
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = f"请填写{label}"
        self._style_fields()


def amount_line(order) -> str:
    return f"{order.customer.name} · 金额 {money_display(order.amount)}"


def payable_orders(user, *, limit: int = 200) -> list:
    """The repair and maintenance orders awaiting payment that ``user`` sees (newest first): the
    choices of a 挂账订单 or a service-order 回款."""
    from .models import ServiceStatus

    found = []
    for key in ("repairorder", "maintenanceorder"):
        if user is None or not user.has_perm(f"aftersales.view_{key}"):
            continue
        found += list(
            _documents(key, user)
            .filter(status=ServiceStatus.AWAITING_PAYMENT)
            .order_by("-billed_at", "-id")[:limit]
        )
    return sorted(found, key=lambda o: o.billed_at or o.created_at, reverse=True)[:limit]


SERVICE_ORDER_FIELDS = {"repairorder": "repair_order", "maintenanceorder": "maintenance_order"}


class ServiceOrderChoiceMixin:
    """One picker 售后订单 over both kinds (``repairorder:12``), preset by ``?repair_order=`` /
    ``?maintenance_order=``; ``cleaned_data`` gets ``repair_order`` or ``maintenance_order``
    (the service checks visibility and state again)."""

    def add_service_order_field(self) -> None:
        field = forms.ChoiceField(
            label="售后订单（待支付）",
            required=True,
            error_messages={
                "required": "请选择待支付的维修订单或保养订单",
                "invalid_choice": "订单不存在、无权查看或不是待支付状态",
            },
            widget=forms.Select(attrs={"data-picker": "1", "col": "col-12"}),
        )
        orders = payable_orders(self.user)
        field.choices = [("", "请选择")] + [
            (o.choice_key, f"{o._meta.verbose_name} {o.number}（{amount_line(o)}）") for o in orders
        ]
        self.fields = {"service_order": field, **self.fields}
        for model_name, name in SERVICE_ORDER_FIELDS.items():
            chosen = self.initial.get(name)
            if chosen and not self.is_bound:
                value = f"{model_name}:{chosen}"
                if value in dict(field.choices):
                    self.initial["service_order"] = value
                else:
                    self.preselect_error = "订单不存在、无权查看或不是待支付状态"

    def clean_service_order(self):
        model_name, _sep, pk = self.cleaned_data["service_order"].partition(":")
        self.cleaned_data[SERVICE_ORDER_FIELDS[model_name]] = int(pk)
        return self.cleaned_data["service_order"]


class OnAccountOrderForm(ServiceOrderChoiceMixin, DocumentForm):
    amount = forms.CharField(label="挂账金额", required=False, help_text="默认为订单未付金额")

    class Meta:
        model = OnAccountOrder
        fields = ["store", "amount", "remark"]
        widgets = {"remark": forms.TextInput(attrs={"col": "col-12"})}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_onaccount_%s")
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = DictEntry.objects.filter(
            kind=DictKind.STORE, is_active=True
        )
        self.fields["store"].empty_label = "请选择"
        if self.instance and self.instance.pk:
            self.initial.setdefault("amount", str(self.instance.amount))
        else:
            self.add_service_order_field()

    def clean(self):
        data = super().clean()
        for name in SERVICE_ORDER_FIELDS.values():
            if name in self.cleaned_data:
                data[name] = self.cleaned_data[name]
        return data

from django.contrib import admin

from .models import Delivery, Webhook
from .services import subscriptions_changed


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("id", "url", "project", "active", "created_at")
    list_filter = ("active",)
    # The secret is shown once by the API's create; the admin never shows it.
    exclude = ("secret",)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        subscriptions_changed()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        subscriptions_changed()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        subscriptions_changed()


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "webhook", "event", "status", "attempts", "response_code", "created_at")
    list_filter = ("status",)
    readonly_fields = [field.name for field in Delivery._meta.fields]

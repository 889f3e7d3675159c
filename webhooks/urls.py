from django.urls import path

from . import apis

urlpatterns = [
    path("webhooks/", apis.WebhookListCreateApi.as_view(), name="webhooks"),
    path("webhooks/<int:webhook_id>/", apis.WebhookDetailApi.as_view(), name="webhook"),
    path(
        "webhooks/<int:webhook_id>/deliveries/",
        apis.DeliveryListApi.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhook-deliveries/<int:delivery_id>/redeliver/",
        apis.DeliveryRedeliverApi.as_view(),
        name="webhook-redeliver",
    ),
]

from django.contrib import admin

from .models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "kind", "parent", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "storage_path")
    raw_id_fields = ("parent",)

from django.contrib import admin

from ektp.notifications.models import ChannelOptOut, InboundMessage, Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "channel", "recipient", "status", "attempts"]
    list_filter = ["status", "channel", "event"]
    search_fields = ["recipient", "dedup_key"]
    readonly_fields = [f.name for f in Message._meta.fields]


@admin.register(ChannelOptOut)
class ChannelOptOutAdmin(admin.ModelAdmin):
    list_display = ["resident", "channel", "created_at"]
    raw_id_fields = ["resident"]


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "sender", "kind", "text"]
    readonly_fields = [f.name for f in InboundMessage._meta.fields]

from django.contrib import admin

from feed.models import Comment, Like, Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("id", "author", "caption", "created_at")
    list_select_related = ("author",)
    search_fields = ("caption", "author__username")


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("id", "post", "author", "body", "created_at")


admin.site.register(Like)

from django.conf import settings
from django.db import models


class Post(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    caption = models.CharField(max_length=500, blank=True)
    # The image's name in the default storage, posts/<uuid>.<ext>, chosen by the server, never by the client. The
    # storage's location is media (config/settings.py STORAGES), so the bucket's object is media/posts/<uuid>.<ext>.
    image = models.ImageField(max_length=200)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    # Bytes of the image, counted against its author's quota (UPLOAD_QUOTA_BYTES). Null (not counted) for posts
    # made before it, and by a release before it while a deploy runs both (a NOT NULL column would break it).
    size = models.PositiveBigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.author}: {self.caption[:40]}"


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="one_like_per_user_and_post")]


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments")
    body = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class OrphanImage(models.Model):
    """An image whose post is gone, still to be removed from the bucket and from Apache's cache (feed/media.py).
    Written in the transaction that deletes the post and removed once both are done, so a failure in between
    (the bucket away) leaves this record for a retry, never an object kept forever, nor a post without its
    image."""
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

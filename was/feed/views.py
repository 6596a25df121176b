import logging
import secrets
import sys

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Sum
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from feed import replica
from feed.forms import CommentForm, PostForm, SignUpForm
from feed.images import object_name
from feed.models import Comment, Like, Post

log = logging.getLogger(__name__)
PAGE_SIZE = 10


def home(request):
    posts = (
        Post.objects.select_related("author")
        .annotate(like_count=Count("likes", distinct=True))
        .prefetch_related(Prefetch("comments", queryset=Comment.objects.select_related("author")))
        # Explicit: Meta.ordering is not applied to aggregating queries.
        .order_by("-created_at", "-id")
    )
    if request.user.is_authenticated:
        posts = posts.annotate(liked=Exists(Like.objects.filter(post=OuterRef("pk"), user=request.user)))
    page = Paginator(posts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "feed/home.html", {"page": page, "comment_form": CommentForm()})


def signup(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
def guest_login(request):
    """One click: a fresh guest account, logged in, with no password to remember."""
    # No password given: create_user stores an unusable one.
    user = get_user_model().objects.create_user(f"guest-{secrets.token_hex(4)}")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.info(request, f"You are {user.username}. Welcome!")
    return redirect("home")


@login_required
def new_post(request):
    form = PostForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not form.is_valid():
            if form.has_error("image", "busy"):
                response = render(request, "feed/new_post.html", {"form": form}, status=503)
                response["Retry-After"] = "5"
                return response
            return render(request, "feed/new_post.html", {"form": form}, status=400)
        image = form.checked_image
        size = len(image.content)
        if over_quota(request.user, size):
            quota = settings.UPLOAD_QUOTA_BYTES // (1024 * 1024)
            form.add_error("image", f"Your photos would take more than your {quota} MB. Delete a post to make room.")
            return render(request, "feed/new_post.html", {"form": form}, status=403)
        # What was checked, without its metadata: never the upload's own bytes.
        name = default_storage.save(object_name(image.extension), ContentFile(image.content))
        try:
            with transaction.atomic():
                Post.objects.create(author=request.user, caption=form.cleaned_data["caption"], image=name,
                                    width=image.width, height=image.height, size=size)
        except DatabaseError:
            # No row, so no object either: an orphan in the bucket is a leak nobody would ever see.
            log.exception("post not saved, deleting %s", name)
            default_storage.delete(name)
            form.add_error(None, "Your post could not be saved just now. Please try again.")
            return render(request, "feed/new_post.html", {"form": form}, status=503)
        return redirect("home")
    return render(request, "feed/new_post.html", {"form": form})


def over_quota(user, size):
    """True if an image of `size` bytes would take the user's images past UPLOAD_QUOTA_BYTES. (Uploads sent at
    the same moment may each pass it by one image.)"""
    used = Post.objects.filter(author=user).aggregate(used=Sum("size"))["used"] or 0
    return used + size > settings.UPLOAD_QUOTA_BYTES


@login_required
@require_POST
def delete_post(request, post_id):
    """The author deletes a post: its row, likes and comments in one transaction, which also records its image as
    an orphan, removed from the bucket and Apache's cache once it commits (feed/media.py). Nobody ever sees a
    post without its image, and an image whose removal failed stays recorded until a retry succeeds. Someone
    else's post: 404, and nothing changes."""
    with transaction.atomic():
        get_object_or_404(Post.objects.select_for_update(), pk=post_id, author=request.user).delete()
    messages.info(request, "Your post was deleted.")
    return HttpResponseRedirect(sent_from(request))


def sent_from(request):
    """The feed page a like or comment form was on (its `next` field, say "/?page=3"), so that the user returns
    to it rather than to the first page; "/" when `next` is missing or not a URL of this site (an open
    redirect would send users anywhere). Without its fragment: the caller adds the post's, and hands the result
    to HttpResponseRedirect, not redirect(), which would take a bare word for a URL pattern's name."""
    page = request.POST.get("next", "").partition("#")[0]
    if url_has_allowed_host_and_scheme(page, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return page
    return "/"


@login_required
@require_POST
def toggle_like(request, post_id):
    post = get_object_or_404(Post, pk=post_id)
    deleted, _ = Like.objects.filter(user=request.user, post=post).delete()
    if not deleted:
        Like.objects.get_or_create(user=request.user, post=post)
    return HttpResponseRedirect(f"{sent_from(request)}#post-{post.pk}")


@login_required
@require_POST
def add_comment(request, post_id):
    post = get_object_or_404(Post, pk=post_id)
    form = CommentForm(request.POST)
    back = sent_from(request)
    if not form.is_valid():
        # The form again, with its error and the way back to the post: nothing was stored.
        return render(request, "feed/comment.html", {"post": post, "form": form, "back": back}, status=400)
    Comment.objects.create(post=post, author=request.user, body=form.cleaned_data["body"])
    return HttpResponseRedirect(f"{back}#post-{post.pk}")


def server_error(request):
    """handler500: a database that is away (restarting, say) is a 503 worth retrying, not a 500."""
    exc = sys.exc_info()[1]
    if isinstance(exc, (OperationalError, InterfaceError)):
        response = render(request, "503.html", status=503)
        response["Retry-After"] = "5"
        return response
    return render(request, "500.html", status=500)


@never_cache
def whoami(request):
    user = request.user.get_username() if request.user.is_authenticated else None
    return JsonResponse({"user": user, "served_by": replica.name(), "route": replica.route()})

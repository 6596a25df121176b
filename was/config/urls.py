from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from feed import bench, views

urlpatterns = [
    path("", views.home, name="home"),
    path("signup", views.signup, name="signup"),
    path("login", auth_views.LoginView.as_view(), name="login"),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    path("guest", views.guest_login, name="guest"),
    path("posts/new", views.new_post, name="new_post"),
    path("posts/<int:post_id>/like", views.toggle_like, name="like"),
    path("posts/<int:post_id>/comments", views.add_comment, name="comment"),
    path("posts/<int:post_id>/delete", views.delete_post, name="delete_post"),
    path("whoami", views.whoami, name="whoami"),
    path("admin/", admin.site.urls),
]

if settings.BENCH_VIEWS:
    urlpatterns += [path("bench/trivial", bench.trivial), path("bench/io", bench.io_bound)]

handler500 = "feed.views.server_error"

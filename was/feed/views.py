from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from feed import replica


def home(request):
    return render(request, "feed/home.html")


@never_cache
def whoami(request):
    user = request.user.get_username() if request.user.is_authenticated else None
    return JsonResponse({"user": user, "served_by": replica.name(), "route": replica.route()})

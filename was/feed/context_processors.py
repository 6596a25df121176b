from feed import replica


def served_by(request):
    """The footer's "served by <replica> · route <n>"."""
    return {"served_by": replica.name(), "route": replica.route()}

def navigation(request):
    """Expose the user's role and jurisdiction to every template."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_role": user.get_role_display(), "nav_region": user.region}

"""Template context of the page shell: navigation by role and system warnings."""


def shell(request):
    return {}

from django.urls import path

from . import views

urlpatterns = [
    path("", views.CaseListView.as_view(), name="api-cases"),
    path("<str:number>/", views.CaseDetailView.as_view(), name="api-case"),
    *(
        path(f"<str:number>/{name}/", view.as_view(), name=f"api-case-{name}")
        for name, view in views.ACTION_VIEWS.items()
    ),
]

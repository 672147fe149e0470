from django.urls import path

from . import views

urlpatterns = [
    path("applications/", views.ApplicationListView.as_view(), name="api-theme-applications"),
    path(
        "applications/<str:number>/",
        views.ApplicationDetailView.as_view(),
        name="api-theme-application",
    ),
    *(
        path(
            f"applications/<str:number>/{name}/",
            view.as_view(),
            name=f"api-theme-application-{name}",
        )
        for name, view in views.ACTION_VIEWS.items()
    ),
    path("projects/", views.ProjectListView.as_view(), name="api-theme-projects"),
    path(
        "projects/<uuid:public_id>/",
        views.ProjectDetailView.as_view(),
        name="api-theme-project",
    ),
    path("reductions/", views.ReductionView.as_view(), name="api-theme-reductions"),
]

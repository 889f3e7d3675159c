from django.urls import path

from . import apis

urlpatterns = [
    path("models/", apis.ModelListRegisterApi.as_view(), name="models"),
    path("run-kinds/", apis.RunKindListApi.as_view(), name="run-kinds"),
    path("training-runs/", apis.TrainingRunListCreateApi.as_view(), name="training-runs"),
    path("training-runs/<int:run_id>/", apis.TrainingRunDetailApi.as_view(), name="training-run"),
    path(
        "training-runs/<int:run_id>/cancel/",
        apis.TrainingRunCancelApi.as_view(),
        name="training-run-cancel",
    ),
    path("projects/<int:project_id>/generate/", apis.GenerateApi.as_view(), name="generate"),
    path("generation-jobs/", apis.GenerationJobListApi.as_view(), name="generation-jobs"),
    path(
        "generation-jobs/<int:job_id>/",
        apis.GenerationJobDetailApi.as_view(),
        name="generation-job",
    ),
    path(
        "generation-jobs/<int:job_id>/cancel/",
        apis.GenerationJobCancelApi.as_view(),
        name="generation-job-cancel",
    ),
]

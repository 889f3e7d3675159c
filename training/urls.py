from django.urls import path

from .apis import endpoints, generation, models, runs

urlpatterns = [
    path("models/", models.ModelListRegisterApi.as_view(), name="models"),
    path("models/endpoints/", endpoints.EndpointRegisterApi.as_view(), name="model-endpoints"),
    path("models/<int:model_id>/merge/", models.ModelMergeApi.as_view(), name="model-merge"),
    path(
        "models/<int:model_id>/download/", models.ModelDownloadApi.as_view(), name="model-download"
    ),
    path("merge-jobs/<int:job_id>/", models.MergeJobDetailApi.as_view(), name="merge-job"),
    path("run-kinds/", runs.RunKindListApi.as_view(), name="run-kinds"),
    path("training-runs/", runs.TrainingRunListCreateApi.as_view(), name="training-runs"),
    path("training-runs/<int:run_id>/", runs.TrainingRunDetailApi.as_view(), name="training-run"),
    path(
        "training-runs/<int:run_id>/cancel/",
        runs.TrainingRunCancelApi.as_view(),
        name="training-run-cancel",
    ),
    path("projects/<int:project_id>/generate/", generation.GenerateApi.as_view(), name="generate"),
    path("generation-jobs/", generation.GenerationJobListApi.as_view(), name="generation-jobs"),
    path(
        "generation-jobs/<int:job_id>/",
        generation.GenerationJobDetailApi.as_view(),
        name="generation-job",
    ),
    path(
        "generation-jobs/<int:job_id>/cancel/",
        generation.GenerationJobCancelApi.as_view(),
        name="generation-job-cancel",
    ),
]

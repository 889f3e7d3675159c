from django.urls import path

from .apis import auth, datasets, health, members, projects, reviews, tasks, users

urlpatterns = [
    path("health/", health.HealthApi.as_view(), name="health"),
    path("auth/token/", auth.TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/revoke/", auth.TokenRevokeApi.as_view(), name="auth-token-revoke"),
    path("auth/tokens/", auth.TokenListCreateApi.as_view(), name="auth-tokens"),
    path("auth/tokens/<int:token_id>/", auth.TokenDetailApi.as_view(), name="auth-token-detail"),
    path("auth/password/", auth.PasswordChangeApi.as_view(), name="auth-password"),
    path("auth/csrf/", auth.CsrfApi.as_view(), name="auth-csrf"),
    path("auth/login/", auth.SessionLoginApi.as_view(), name="auth-login"),
    path("auth/logout/", auth.SessionLogoutApi.as_view(), name="auth-logout"),
    path("me/", auth.MeApi.as_view(), name="me"),
    path("me/reviews/", reviews.MyReviewsApi.as_view(), name="my-reviews"),
    path("users/", users.UserListCreateApi.as_view(), name="users"),
    path("users/<int:user_id>/", users.UserDetailApi.as_view(), name="user-detail"),
    path("projects/", projects.ProjectListCreateApi.as_view(), name="projects"),
    path("projects/<int:project_id>/", projects.ProjectDetailApi.as_view(), name="project"),
    path(
        "projects/<int:project_id>/prompts/",
        projects.PromptListImportApi.as_view(),
        name="project-prompts",
    ),
    path(
        "projects/<int:project_id>/candidate-sets/",
        projects.CandidateSetListImportApi.as_view(),
        name="project-candidate-sets",
    ),
    path(
        "projects/<int:project_id>/members/",
        members.MemberListAddApi.as_view(),
        name="project-members",
    ),
    path(
        "projects/<int:project_id>/members/<int:user_id>/",
        members.MemberDetailApi.as_view(),
        name="project-member",
    ),
    path(
        "projects/<int:project_id>/review-queue/",
        reviews.ReviewQueueApi.as_view(),
        name="review-queue",
    ),
    path(
        "projects/<int:project_id>/rankings/<int:ranking_id>/review/",
        reviews.RankingReviewApi.as_view(),
        name="ranking-review",
    ),
    path(
        "projects/<int:project_id>/candidate-sets/<int:set_id>/adjudication/",
        reviews.AdjudicationApi.as_view(),
        name="adjudication",
    ),
    path("projects/<int:project_id>/next-task/", tasks.NextTaskApi.as_view(), name="next-task"),
    path("projects/<int:project_id>/export/", datasets.ProjectExportApi.as_view(), name="export"),
    path("projects/<int:project_id>/progress/", datasets.ProgressApi.as_view(), name="progress"),
    path(
        "projects/<int:project_id>/annotators/",
        datasets.AnnotatorStatsApi.as_view(),
        name="annotator-stats",
    ),
    path(
        "projects/<int:project_id>/gold-sets/",
        datasets.GoldSetImportApi.as_view(),
        name="gold-sets",
    ),
    path(
        "projects/<int:project_id>/honeypots/",
        datasets.HoneypotCreateApi.as_view(),
        name="honeypots",
    ),
    path(
        "projects/<int:project_id>/preferences/",
        datasets.PreferenceImportApi.as_view(),
        name="preference-import",
    ),
    path(
        "candidate-sets/<int:set_id>/",
        datasets.CandidateSetDetailApi.as_view(),
        name="candidate-set",
    ),
    path("datasets/", datasets.SnapshotListCreateApi.as_view(), name="datasets"),
    path("datasets/<int:snapshot_id>/", datasets.SnapshotDetailApi.as_view(), name="dataset"),
    path(
        "datasets/<int:snapshot_id>/export/",
        datasets.SnapshotExportApi.as_view(),
        name="dataset-export",
    ),
    path("assignments/<int:assignment_id>/submit/", tasks.SubmitApi.as_view(), name="submit"),
    path("assignments/<int:assignment_id>/skip/", tasks.SkipApi.as_view(), name="skip"),
    path("assignments/<int:assignment_id>/release/", tasks.ReleaseApi.as_view(), name="release"),
]

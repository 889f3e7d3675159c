from django.urls import path

from .apis import auth, projects, tasks, users

urlpatterns = [
    path("auth/token/", auth.TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/revoke/", auth.TokenRevokeApi.as_view(), name="auth-token-revoke"),
    path("auth/csrf/", auth.CsrfApi.as_view(), name="auth-csrf"),
    path("auth/login/", auth.SessionLoginApi.as_view(), name="auth-login"),
    path("auth/logout/", auth.SessionLogoutApi.as_view(), name="auth-logout"),
    path("me/", auth.MeApi.as_view(), name="me"),
    path("users/", users.UserListCreateApi.as_view(), name="users"),
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
    path("projects/<int:project_id>/next-task/", tasks.NextTaskApi.as_view(), name="next-task"),
    path("assignments/<int:assignment_id>/submit/", tasks.SubmitApi.as_view(), name="submit"),
    path("assignments/<int:assignment_id>/skip/", tasks.SkipApi.as_view(), name="skip"),
]

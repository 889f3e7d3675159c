from django.urls import path

from . import apis

urlpatterns = [
    path("projects/<int:project_id>/loop/", apis.LoopApi.as_view(), name="loop"),
    path(
        "projects/<int:project_id>/loop/waiting/",
        apis.LoopWaitingApi.as_view(),
        name="loop-waiting",
    ),
    path("projects/<int:project_id>/rounds/", apis.RoundListStartApi.as_view(), name="rounds"),
    path(
        "projects/<int:project_id>/leaderboard/",
        apis.LeaderboardApi.as_view(),
        name="leaderboard",
    ),
    path("rounds/<int:round_id>/", apis.RoundDetailApi.as_view(), name="round"),
    path("rounds/<int:round_id>/retry/", apis.RoundRetryApi.as_view(), name="round-retry"),
    path("rounds/<int:round_id>/decision/", apis.RoundDecisionApi.as_view(), name="round-decision"),
]

from django.urls import path

from harbour.drugcheck import views

app_name = "drugcheck"

urlpatterns = [
    path("", views.board, name="board"),
    path("result/", views.lookup, name="lookup"),
]

"""The authentication backend: Django's, with the signed-in user's applicant profile read in
the same query (nearly every page and API call of an applicant needs it)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class AccountBackend(ModelBackend):
    def get_user(self, user_id):
        user = get_user_model().objects.select_related("applicant").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

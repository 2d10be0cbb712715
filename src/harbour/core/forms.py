"""Form pieces shared by the apps."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from harbour.core import geo


class NearFieldMixin:
    """A search form's ``near`` field: a postal code or a position, parsed into ``self.place``
    (None when empty), with an error in the person's language when it is not one."""

    cleaned_data: dict
    place: geo.Place | None = None

    def clean_near(self) -> str:
        near = self.cleaned_data.get("near", "").strip()
        if near:
            try:
                self.place = geo.parse_place(near)
            except geo.PlaceError as exc:
                if exc.code == "unknown_postal_code":
                    raise forms.ValidationError(
                        _(
                            "We do not know the postal code “%(code)s”. Check it, or try the "
                            "first three characters, such as K7L."
                        ),
                        params={"code": near},
                    ) from exc
                raise forms.ValidationError(
                    _("Enter a postal code such as K7L, or a position such as 44.23,-76.49.")
                ) from exc
        return near

from django import forms
from django.contrib.auth.forms import UserCreationForm

from feed.images import Busy, check_image
from feed.models import Comment


class SignUpForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class PostForm(forms.Form):
    caption = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    image = forms.FileField(help_text="JPEG, PNG, GIF or WebP")

    def clean_image(self):
        upload = self.cleaned_data["image"]
        try:
            self.checked_image = check_image(upload)
        except Busy:
            raise forms.ValidationError("Too many images are being checked just now. Please try again.",
                                        code="busy") from None
        return upload


class CommentForm(forms.ModelForm):
    class Meta:
        model = Comment
        fields = ("body",)
        labels = {"body": "Comment"}
        widgets = {"body": forms.TextInput(attrs={"placeholder": "Add a comment…", "aria-label": "Comment"})}

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.customers.tests.conftest import client_for, make_customer, org  # noqa: F401
from kehu.org.testing import api_client  # noqa: F401


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def pdf():
    def make(name="合同.pdf"):
        return SimpleUploadedFile(name, b"%PDF-1.4 recycle bin test\n")

    return make

from kehu.core.tests.test_api_fuzz import FUZZ, call_as, keep_the_test_connection, schema  # noqa

mine = schema.include(path_regex=r"^/api/v1/(auth/|users/\{user_id\}/tokens)")


@mine.parametrize()
@FUZZ
def test_admin(case, org, reference_data):
    call_as(case, org["admin"])


@mine.parametrize()
@FUZZ
def test_sales(case, org, reference_data):
    call_as(case, org["sales1"])

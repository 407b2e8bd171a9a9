"""A template parameter Meta would refuse (132018: newline, tab, more than 4 consecutive
spaces) is refused at accept time, naming the parameter, and nothing is stored."""

from tests.conftest import Tenant, assert_error


async def test_a_parameter_with_a_newline_is_a_422_naming_it_and_stores_nothing(tenant: Tenant) -> None:
    await tenant.approved_template("order_update")
    template = {"name": "order_update", "language": "en", "parameters": {"body": ["Ada", "#45\n82"]}}
    response = await tenant.send(template=template, reference="newline-parameter")
    error = assert_error(response, 422, "template_parameters_mismatch", param="template.parameters.body[1]")
    assert "newline" in error["message"]
    listed = (await tenant.test.get("/v1/messages", params={"reference": "newline-parameter"})).json()
    assert listed["data"] == []

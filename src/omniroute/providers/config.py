"""Reading a channel's provider ``config`` into the provider's own model."""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from omniroute.core.errors import InvalidRequestError

ConfigT = TypeVar("ConfigT", bound=BaseModel)


def parse_config(model: type[ConfigT], config: dict[str, Any], provider: str, *, whole: str = "") -> ConfigT:
    """``config`` as ``model``; a 422 naming the first bad key otherwise (``parameter_missing``
    for an absent one). ``whole``: the key to name when a check of the whole config fails."""
    try:
        return model.model_validate(config)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or whole
        param = f"config.{field}" if field else "config"
        if first["type"] == "missing":
            raise InvalidRequestError(
                "parameter_missing", f"'{param}' is required for a {provider} channel.", param=param
            ) from exc
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidRequestError("parameter_invalid", f"{param}: {message}.", param=param) from exc

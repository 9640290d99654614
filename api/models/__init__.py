"""The API's typed outside: request and response models shared by the routes, the OpenAPI
document and the Python client (`api.client`). Pydantic only: no web framework here."""

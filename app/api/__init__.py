"""REST API ``/api/v1`` (issue 16): OpenAPI 3.1 from the marshmallow schemas (flask-smorest),
bearer tokens, cursor pagination, ETags and RFC 9457 problem+json errors."""

"""Every sentence the mock says about a request or an answer, by name. The English text is the
message id (`TRANSLATED` is read by `make messages`); the Korean is in the hub's catalog."""

from __future__ import annotations

TRANSLATED = {
    # a value against its schema: {subject} names it, {expected} is the schema's word
    "required": "{subject} is required ({rule})",
    "type": "{subject} must be of type {expected} ({rule})",
    "enum": "{subject} must be one of {expected} ({rule})",
    "const": "{subject} must be {expected} ({rule})",
    "format": "{subject} must be a valid {expected} ({rule})",
    "minimum": "{subject} must be at least {expected} ({rule})",
    "maximum": "{subject} must be at most {expected} ({rule})",
    "exclusiveMinimum": "{subject} must be greater than {expected} ({rule})",
    "exclusiveMaximum": "{subject} must be less than {expected} ({rule})",
    "multipleOf": "{subject} must be a multiple of {expected} ({rule})",
    "minLength": "{subject} must be at least {expected} characters long ({rule})",
    "maxLength": "{subject} must be at most {expected} characters long ({rule})",
    "pattern": "{subject} must match the pattern {expected} ({rule})",
    "minItems": "{subject} must have at least {expected} items ({rule})",
    "maxItems": "{subject} must have at most {expected} items ({rule})",
    "uniqueItems": "{subject} must not repeat an item ({rule})",
    "minProperties": "{subject} must have at least {expected} properties ({rule})",
    "maxProperties": "{subject} must have at most {expected} properties ({rule})",
    "additionalProperties": "{subject} is not a declared property, and no other is allowed "
                            "({rule})",
    "oneOf": "{subject} must match exactly one of the schemas listed in oneOf ({rule})",
    "anyOf": "{subject} must match at least one of the schemas listed in anyOf ({rule})",
    "not": "{subject} matches a schema it must not match ({rule})",
    "readOnly": "{subject} is read-only and must not be sent ({rule})",
    "writeOnly": "{subject} is write-only and must not be in an answer ({rule})",
    "other": "{subject} is not valid ({rule}): {expected}",
    # what is named
    "parameter": "{location} parameter '{name}'",
    "header": "header '{name}'",
    "field": "'{name}'",
    "request body": "the request body",
    "answer body": "the answer's body",
    # a request
    "not json": "{subject} is not valid JSON ({rule}): {expected}",
    "content type": "The content type '{sent}' is not one this operation accepts ({expected}) "
                    "({rule})",
    "prefer code": "The Prefer header asks for status {asked}, which {operation} does not "
                   "declare (it declares {expected}) ({rule})",
    "prefer example": "The Prefer header asks for the example '{asked}', which {operation} "
                      "does not have (it has {expected}) ({rule})",
    # a real server's answer
    "status": "{operation} declares no answer with status {sent} (it declares {expected}) "
              "({rule})",
    "answer type": "The answer's content type '{sent}' is not declared for status {status} "
                   "(declared: {expected}) ({rule})",
    "no body": "Status {status} declares no body, but the answer has one ({rule})",
    "not xml": "{subject} is not well-formed XML ({rule}): {expected}",
    # the mock's own refusals
    "title": "The request breaks the API's contract: {field} ({rule})",
    "more": "({count} more)",
    "unknown path": "The API's contract has no such path",
    "not allowed": "This path does not accept this method; it accepts {allowed}",
    "broken": "The mock cannot serve this operation: {reason}",
    "broken title": "The mock cannot serve this operation",
    "unbuildable": "The mock cannot build the answer {key} of {operation}: {reason}",
}

"""The IMS names an LTI 1.3 message carries, and how LMS roles map to the tutor's."""

from __future__ import annotations

from typing import Literal

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
RESOURCE_LINK = LTI + "resource_link"
TARGET_LINK_URI = LTI + "target_link_uri"
CUSTOM = LTI + "custom"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DEEP_LINKING_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
LTI_VERSION = "1.3.0"

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

LINEITEM_MEDIA = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_MEDIA = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_MEDIA = "application/vnd.ims.lis.v1.score+json"
MEMBERSHIPS_MEDIA = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

# Roles that teach: the context's Instructor (and its sub-roles, e.g. Instructor#TeachingAssistant) or an
# Administrator (of the context, the institution or the system). Everyone else is a student here.
_TEACHING = ("Instructor", "Administrator")


def _role_name(uri: str) -> str:
    """`http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor` -> Instructor; a sub-role
    `.../membership/Instructor#TeachingAssistant` -> Instructor; a short name stays as it is."""
    if "/membership/" in uri:
        return uri.rsplit("/membership/", 1)[1].split("#", 1)[0]
    return uri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def tutor_role(roles: list[str]) -> Literal["student", "teacher"]:
    return "teacher" if any(_role_name(r) in _TEACHING for r in roles if isinstance(r, str)) else "student"


def is_learner(roles: list[str]) -> bool:
    return any(_role_name(r) == "Learner" for r in roles if isinstance(r, str))

"""REST resources of approval matrices (phase 4): /api/v1/approval-matrices.

A matrix is versioned: POST creates version 1 (retried with its id: the same answer), POST
.../versions publishes the next (send `If-Match: <version>` to refuse it if someone published
meanwhile). Contracts keep the version they were routed with. The standard matrix
(`standard_matrix_id` below) routes every contract submitted without naming another."""

import datetime as dt
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Path, Response, status
from pydantic import BaseModel, Field

from shared.backbone.app import ServiceContext, context
from shared.backbone.auth import Principal, Role, any_role, require_roles
from shared.backbone.rest import Cursor, IfMatch, Limit, Page, answer_created, expected_version, replayed, page_of, with_version
from shared.events.approvals import ApprovalMatrixPublished, ApprovalRule
from services.clm.application import approvals as use_cases
from services.clm.domain.approval_matrix import STANDARD_MATRIX_ID, ApprovalMatrix

router = APIRouter(prefix="/approval-matrices", tags=["approvals"])

# The matrix is the contract manager's policy data (docs/contracting/approvals.md).
may_maintain = require_roles(Role.CONTRACT_MANAGER)


class MatrixContent(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Standard approvals"])
    rules: list[ApprovalRule] = Field(min_length=1, max_length=100)


class NewMatrix(MatrixContent):
    matrix_id: UUID | None = Field(None, description="Defaults to a generated id; send one to retry safely")


class MatrixVersion(MatrixContent):
    expected_version: int | None = Field(None, description="Refuse with 409 if a version was published since")


class MatrixView(BaseModel):
    matrix_id: UUID
    version: int = Field(description="the matrix version shown")
    latest_version: int
    standard: bool = Field(description="whether it is the matrix contracts are routed with unless they name another")
    name: str
    rules: list[ApprovalRule]
    published_by: str
    published_at: dt.datetime

    @classmethod
    def of(cls, matrix: ApprovalMatrix, published: ApprovalMatrixPublished | None = None) -> "MatrixView":
        p = published or matrix.latest
        return cls(matrix_id=p.matrix_id, version=p.version, latest_version=matrix.latest.version,
                   standard=p.matrix_id == STANDARD_MATRIX_ID, name=p.name, rules=p.rules,
                   published_by=p.published_by, published_at=p.published_at)


class MatrixSummary(BaseModel):
    matrix_id: UUID
    name: str
    latest_version: int
    published_by: str
    published_at: dt.datetime


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MatrixView, responses=replayed(MatrixView))
async def create_matrix(body: NewMatrix, response: Response, principal: Annotated[Principal, Depends(may_maintain)],
                        ctx: Annotated[ServiceContext, Depends(context)]) -> MatrixView:
    """Version 1 of a matrix. Each rule's CEL condition is checked here: 422 approval.condition_invalid
    names the rule and what is wrong."""
    matrix_id = body.matrix_id or uuid4()
    matrix, is_new = await use_cases.create_matrix(ctx.uow(principal), matrix_id, name=body.name, rules_=body.rules,
                                                   by=principal.subject, at=ctx.clock.now())
    answer_created(response, f"/api/v1/approval-matrices/{matrix_id}", is_new)
    with_version(response, matrix.version)
    return MatrixView.of(matrix)


@router.post("/{matrix_id}/versions", response_model=MatrixView)
async def publish_version(matrix_id: UUID, body: MatrixVersion, response: Response,
                          principal: Annotated[Principal, Depends(may_maintain)],
                          ctx: Annotated[ServiceContext, Depends(context)], if_match: IfMatch = None) -> MatrixView:
    """The next version (the same content as the latest publishes nothing)."""
    matrix = await use_cases.publish_matrix_version(
        ctx.uow(principal), matrix_id, expected_version(if_match, body.expected_version), name=body.name,
        rules_=body.rules, by=principal.subject, at=ctx.clock.now())
    with_version(response, matrix.version)
    return MatrixView.of(matrix)


@router.get("/{matrix_id}", response_model=MatrixView, dependencies=[Depends(any_role)])
async def get_matrix(matrix_id: UUID, response: Response, ctx: Annotated[ServiceContext, Depends(context)]) -> MatrixView:
    """The latest version."""
    matrix = await use_cases.get_matrix(ctx.uow(), matrix_id, ctx.clock.now())
    with_version(response, matrix.version)
    return MatrixView.of(matrix)


@router.get("/{matrix_id}/versions/{version}", response_model=MatrixView, dependencies=[Depends(any_role)])
async def get_matrix_version(matrix_id: UUID, version: Annotated[int, Path(ge=1, le=1_000_000)],
                             ctx: Annotated[ServiceContext, Depends(context)]) -> MatrixView:
    """A given version, e.g. the one a contract was routed with."""
    matrix = await use_cases.get_matrix(ctx.uow(), matrix_id, ctx.clock.now())
    return MatrixView.of(matrix, matrix.version_numbered(version))


@router.get("", response_model=Page[MatrixSummary], dependencies=[Depends(any_role)])
async def list_matrices(ctx: Annotated[ServiceContext, Depends(context)], cursor: Cursor = None,
                        limit: Limit = 50) -> dict:
    rows = await use_cases.list_matrices(ctx.uow(), after=cursor, limit=limit, at=ctx.clock.now())
    return page_of(rows, limit, key=lambda r: r["matrix_id"])

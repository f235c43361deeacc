"""Leave endpoints: /api/v1/leave-requests."""

from flask.views import MethodView

from schemas.leave import (LeaveAcknowledgementSchema, LeaveCommentSchema, LeaveDecisionSchema, LeaveCreateSchema, LeaveListArgs,
                           LeavePageSchema, LeaveRangeSchema, LeaveSchema, LeaveMineArgs, LeavePreviewSchema)
from service.core.auth import ADMIN, PROVINCE_STAFF, SUPERVISOR, current_identity, require
from service.core.blueprint import Blueprint
from service.core.ids import parse_object_id
from service.leave import review, service

blp = Blueprint("leave", __name__, url_prefix="/api/v1/leave-requests", description="Leave requests (请假)")


def _lid(leave_id):
    return parse_object_id(leave_id, "LEAVE_NOT_FOUND")


@blp.route("/preview")
class Preview(MethodView):
    @require()
    @blp.arguments(LeaveRangeSchema)
    @blp.response(200, LeavePreviewSchema)
    def post(self, body):
        """Trainee: which sessions a range covers and how it affects completion (nothing is saved)."""
        return service.preview(user_id=current_identity().user_id, **body)


@blp.route("")
class LeaveRequests(MethodView):
    @require()
    @blp.arguments(LeaveCreateSchema)
    @blp.response(201, LeaveSchema)
    def post(self, body):
        """Trainee: ask for leave; the province staff of your region decide."""
        return service.create(user_id=current_identity().user_id, **body)

    @require(PROVINCE_STAFF, ADMIN, SUPERVISOR)
    @blp.arguments(LeaveListArgs, location="query")
    @blp.response(200, LeavePageSchema)
    def get(self, args):
        """Staff: requests in your scope, oldest first (province staff: the pending inbox of your region)."""
        state = args.pop("state")
        return review.inbox(identity=current_identity(), state=None if state == "all" else state, **args)


@blp.route("/mine")
class Mine(MethodView):
    @require()
    @blp.arguments(LeaveMineArgs, location="query")
    @blp.response(200, LeaveSchema(many=True))
    def get(self, args):
        """Trainee: my leave requests, newest first."""
        return service.list_mine(user_id=current_identity().user_id, **args)


@blp.route("/<objectid:leave_id>")
class LeaveRequest(MethodView):
    @require()
    @blp.response(200, LeaveSchema)
    def get(self, leave_id):
        """One request: its trainee, the region's staff, the class's supervisors, organizers."""
        return review.readable_or_raise(identity=current_identity(), leave_id=_lid(leave_id))


@blp.route("/<objectid:leave_id>/withdraw")
class Withdraw(MethodView):
    @require()
    @blp.arguments(LeaveCommentSchema)
    @blp.response(200, LeaveSchema)
    def post(self, body, leave_id):
        """Trainee: withdraw a request not decided yet."""
        return service.withdraw(leave_id=_lid(leave_id), user_id=current_identity().user_id, **body)


@blp.route("/<objectid:leave_id>/cancel")
class Cancel(MethodView):
    @require()
    @blp.arguments(LeaveCommentSchema)
    @blp.response(200, LeaveSchema)
    def post(self, body, leave_id):
        """Trainee: cancel an approved leave before it starts."""
        return service.cancel(leave_id=_lid(leave_id), user_id=current_identity().user_id, **body)


@blp.route("/<objectid:leave_id>/return")
class ReturnEarly(MethodView):
    @require()
    @blp.arguments(LeaveCommentSchema)
    @blp.response(200, LeaveSchema)
    def post(self, body, leave_id):
        """Trainee: 销假 — back early; sessions from now on count again."""
        return service.return_early(leave_id=_lid(leave_id), user_id=current_identity().user_id, **body)


@blp.route("/<objectid:leave_id>/decision")
class Decision(MethodView):
    @require(PROVINCE_STAFF, ADMIN)
    @blp.arguments(LeaveDecisionSchema)
    @blp.response(200, LeaveSchema)
    def post(self, body, leave_id):
        """Province staff of the trainee's region: approve or reject (the first decision wins)."""
        return review.decide(identity=current_identity(), leave_id=_lid(leave_id), **body)


@blp.route("/<objectid:leave_id>/acknowledgement")
class Acknowledgement(MethodView):
    @require(SUPERVISOR, ADMIN)
    @blp.arguments(LeaveAcknowledgementSchema)
    @blp.response(200, LeaveSchema)
    def post(self, body, leave_id):
        """Class supervisor: note that the class has the approved leave (报备已收到)."""
        return review.acknowledge(identity=current_identity(), leave_id=_lid(leave_id), **body)

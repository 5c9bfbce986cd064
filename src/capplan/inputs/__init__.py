"""Stage 1: read and validate the workspace inputs."""

from capplan.inputs.validate import check_workspace, load_workspace
from capplan.inputs.workspace import Workspace

__all__ = ["Workspace", "check_workspace", "load_workspace"]

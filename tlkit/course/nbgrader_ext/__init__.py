"""Our nbgrader extensions, used by nbgrader_config.py where nbgrader 0.9.6 has no option of its own: one per file.

Nothing here imports torch, so it is cheap to import from the config, from the CLI and from inside a grading kernel.
"""
from .cap_output import CapOutput
from .duplicate_grade_ids import DropDuplicateGradeIds
from .hidden_tests import HideHiddenTests
from .invalid_metadata import DropInvalidMetadata
from .kernel_guard import KERNEL_GUARD, kernel_guard_arguments
from .name_the_stub import NameTheStub
from .own_work import RequireOwnWork
from .sandbox import SandboxedExecute, SandboxKernelManager, sandbox_available

__all__ = ["CapOutput", "DropDuplicateGradeIds", "DropInvalidMetadata", "HideHiddenTests", "KERNEL_GUARD",
           "kernel_guard_arguments", "NameTheStub", "RequireOwnWork", "SandboxedExecute", "SandboxKernelManager",
           "sandbox_available"]

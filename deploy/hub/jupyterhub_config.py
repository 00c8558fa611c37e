"""JupyterHub for the course on one server: PAM (real Unix accounts), each user's own JupyterLab with nbgrader's
Assignments panel, the instructor's Formgrader as a hub service run by the grader account, the idle culler.

Run by ``sudo tlkit hub --students class.csv`` (tlkit/course/hub.py), which creates the accounts, the exchange, the
global nbgrader config and the grader's course copy, and passes its settings in the TLKIT_HUB_* variables read here.
Groups and roles are nbgrader's ("Using nbgrader with JupyterHub"): ``formgrade-tlkit`` (instructors) may open the
Formgrader service ``tlkit``; ``nbgrader-tlkit`` (students and instructors) see the course in their Assignments panel
(the global config's JupyterHubAuthPlugin asks the hub for the user's groups with the user's server token: role
``server`` inherits the user's permissions).
"""
import os
import pwd
import sys

from tlkit.course import hub
from tlkit.course.paths import CHECKOUT

c = get_config()  # noqa: F821  (provided by JupyterHub)
env = os.environ
layout = hub.layout_from_environment(env)
accounts = hub.read_class(env["TLKIT_HUB_CLASS"])
instructors = sorted(a.name for a in accounts if a.role == "instructor")
students = sorted(a.name for a in accounts if a.role == "student")
course = hub.COURSE_ID
python = [sys.executable, "-m"]

# --- where it listens: the public address, the hub's API and the proxy's API on 127.0.0.1; state in the prefix ---
c.JupyterHub.bind_url = f"http://{env['TLKIT_HUB_IP']}:{env['TLKIT_HUB_PORT']}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env["TLKIT_HUB_API_PORT"])
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env['TLKIT_HUB_PROXY_API_PORT']}"
c.ConfigurableHTTPProxy.pid_file = str(layout.state / "jupyterhub-proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{layout.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(layout.state / "jupyterhub_cookie_secret")

# --- who logs in: the class list's Unix accounts, their Unix passwords ---
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = set(instructors + students)

# --- each user's server: JupyterLab as that Unix user, in their home, with the course's server config ---
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = python + ["jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.args = [f"--config={CHECKOUT / 'jupyter_server_config.py'}"]
c.Spawner.environment = {"JUPYTER_CONFIG_PATH": str(layout.config_dir)}  # the global nbgrader_config.py
c.Spawner.env_keep.append("TLKIT_PROFILE")  # quick by default; the test runs kernels with grade
c.Spawner.http_timeout = 120  # a first start imports JupyterLab and nbgrader: slow on a busy server
# each student's fair share of the cores: the local spawner does not enforce it, but passes it as CPU_LIMIT, and
# tlkit's lessons run that many torch threads (tlkit.runtime.cpu_count): 6 students of lesson 01 on 2 cores took
# 164-190 s each with 1 thread apiece, 558 s with 2 (results/hub.json)
c.Spawner.cpu_limit = max(1, (os.cpu_count() or 1) // max(1, len(students)))
# the memory one student needs (tlkit.course.hub.MEM_LIMIT, from every lesson's measured peak): passed as MEM_LIMIT
# (JupyterLab's resource display shows it); enforced by spawners with cgroups (systemdspawner, KubeSpawner), not by
# the local spawner
c.Spawner.mem_limit = hub.MEM_LIMIT

# --- nbgrader's groups and roles ---
# the grader account is in formgrade-tlkit too: the Formgrader (JUPYTERHUB_USER = the grader) asks the hub for its
# own groups to list its courses (nbgrader #1872: it fails where that user is unknown to the hub)
c.JupyterHub.load_groups = {f"formgrade-{course}": {"users": instructors + [layout.grader]},
                            f"nbgrader-{course}": {"users": students + instructors}}
c.JupyterHub.load_roles = [
    {"name": f"formgrade-{course}", "groups": [f"formgrade-{course}"],
     "scopes": [f"access:services!service={course}"]},
    {"name": f"nbgrader-{course}", "groups": [f"nbgrader-{course}"],
     "scopes": ["list:services", f"read:services!service={course}"]},
    {"name": f"formgrader-{course}", "services": [course], "scopes": [f"read:users:groups!user={layout.grader}"]},
    {"name": "server", "scopes": ["inherit"]},  # a server's token may read its user's groups (JupyterHubAuthPlugin)
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
]

# --- services: the Formgrader (a JupyterLab server of the grader account, in the course) and the idle culler ---
grader_home = pwd.getpwnam(layout.grader).pw_dir
c.JupyterHub.services = [
    {"name": course, "url": f"http://127.0.0.1:{env['TLKIT_HUB_FORMGRADER_PORT']}", "user": layout.grader,
     "cwd": str(layout.course), "oauth_no_confirm": True,
     "command": python + ["jupyterhub.singleuser", f"--config={layout.course / 'jupyter_server_config.py'}"],
     "environment": {"HOME": grader_home, "JUPYTERHUB_DEFAULT_URL": "/lab", "PATH": env["PATH"],
                     "JUPYTER_CONFIG_PATH": str(layout.config_dir), "TLKIT_EXCHANGE": str(layout.exchange)}},
    {"name": "idle-culler", "command": python + ["jupyterhub_idle_culler", "--timeout=3600"]},
]

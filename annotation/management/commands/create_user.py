import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from annotation.enums import Role
from annotation.management.cli import refusals_as_command_errors
from annotation.services.users import user_create


class Command(BaseCommand):
    help = "Create a user with a role (admin, reviewer or annotator)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=Role.values, required=True)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-env",
            default="FLYWHEEL_PASSWORD",
            help="Read the password from this environment variable (default FLYWHEEL_PASSWORD); "
            "if unset, ask for it on the terminal.",
        )

    def handle(self, *args, username, role, email, password_env, **options):
        password = os.environ.get(password_env)
        if not password:
            if not os.isatty(0):
                raise CommandError(f"Set {password_env} or run in a terminal to enter a password.")
            password = getpass.getpass(f"Password for {username}: ")
        with refusals_as_command_errors():
            user = user_create(username=username, password=password, role=role, email=email)
        self.stdout.write(self.style.SUCCESS(f"Created {role} {user.username} (id {user.pk})."))

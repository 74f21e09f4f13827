"""Flask extensions, created unbound and initialised in ``create_app``."""

from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from app.common.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()

if TYPE_CHECKING:
    #: Base class of every model, typed for mypy: ``db.Model`` is built at runtime from ``Base``
    #: (same registry, metadata and type map), which mypy cannot follow through the extension.
    Model = Base
else:
    Model = db.Model

"""The residents' portal: public pages, no account (申请调解、查询进度、核验协议书)."""

from flask import Blueprint

bp = Blueprint("portal", __name__)

"""Admin-written templates, compiled and run in Jinja2's sandbox.

Autoescape is on for HTML and off for the plain-text part and the subject; undefined
names are errors (StrictUndefined), so a typo is caught when the template is saved, not
when a thousand stakeholders receive ``Dear ,``. A render has a time and a size limit
(limits.py). Every failure becomes a :class:`TemplateProblem` that names the part and
the line.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from types import TracebackType
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from jinja2.utils import pass_eval_context

from mailer.rendering import limits, predict
from mailer.rendering.filter_limits import limited_filter
from mailer.rendering.placeholders import PersonalValueMisused, fallback

PART_LABELS = {
    "subject": "Subject",
    "preheader": "Preheader",
    "html": "HTML body",
    "text": "Plain-text body",
}


@dataclass(eq=False)
class TemplateProblem(Exception):
    """What is wrong with a template, where, in words an editor can act on."""

    part: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = PART_LABELS.get(self.part, self.part)
        if self.line:
            where += f", line {self.line}"
        return f"{where}: {self.message}"


def long_date(value: datetime) -> str:
    """'Sunday 15 August 2027'. Times reach templates already in the configured
    timezone (mailer.bulletins.context), so the filters only format."""
    return f"{value:%A} {value.day} {value:%B %Y}"


def clock(value: datetime) -> str:
    """'23:59'."""
    return value.strftime("%H:%M")


class _LimitedCodeGenerator(CodeGenerator):
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # ``a ~ b`` prints its operands into a new string: measured first (limits.py).
        # As Jinja's own, without folding constants (that would join them unmeasured).
        if frame.eval_ctx.volatile:
            function = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            function = "markup_join"
        else:
            function = "str_join"
        self.write(f"{function}(environment.joined_parts((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write(")))")


@pass_eval_context
def _printed(eval_ctx: EvalContext, value: Any) -> Any:
    return limits.printed(value, eval_ctx.autoescape)


class LimitedSandbox(SandboxedEnvironment):
    """Jinja's sandbox with a size limit on what a template makes, checked before it
    is made (limits.py, predict.py, filter_limits.py)."""

    code_generator_class = _LimitedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+"})
    concat = staticmethod(limits.bounded_join)
    joined_parts = staticmethod(limits.joined_parts)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        predict.binop(operator, left, right)
        return limits.made(limits.bounded(super().call_binop(context, operator, left, right)))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        args, kwargs = predict.before_call(__obj, args, kwargs)
        return limits.checked(super().call(__context, __obj, *args, **kwargs))


@lru_cache(maxsize=2)
def environment(html: bool) -> SandboxedEnvironment:
    env = LimitedSandbox(
        # Folding constants would run filters at compile time and write what they made
        # into the compiled code, outside the render's allowance.
        optimized=False,
        autoescape=html,
        finalize=_printed,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fallback"] = fallback
    env.filters["long_date"] = long_date
    env.filters["clock"] = clock
    env.filters = {name: limited_filter(name, f) for name, f in env.filters.items()}
    return env


def compile_part(part: str, source: str) -> Template:
    try:
        # Folding constants is off (environment()), but a long source still takes time.
        with limits.Deadline(), limits.Allowance():
            return environment(part == "html").from_string(source)
    except limits.RenderLimit as exc:
        raise TemplateProblem(part, str(exc)) from None
    except TemplateSyntaxError as exc:
        raise TemplateProblem(part, _syntax_message(exc), exc.lineno) from None


def render_part(part: str, template: Template, context: dict[str, Any]) -> str:
    try:
        with limits.Deadline(), limits.Allowance():
            return template.render(context)
    except limits.RenderLimit as exc:
        # Jinja maps lines only for the Exceptions it catches; this one it lets through.
        raise TemplateProblem(part, str(exc), _template_line(sys.exc_info()[2])) from None
    except TemplateSyntaxError as exc:
        raise TemplateProblem(part, _syntax_message(exc), exc.lineno) from None
    except UndefinedError as exc:
        raise TemplateProblem(part, _undefined_message(exc), _line(sys.exc_info()[2])) from None
    except SecurityError as exc:
        raise TemplateProblem(
            part,
            f"not allowed in a template ({exc}); templates can use only the values "
            "listed beside the editor",
            _line(sys.exc_info()[2]),
        ) from None
    except PersonalValueMisused as exc:
        raise TemplateProblem(part, str(exc), _line(sys.exc_info()[2])) from None
    except Exception as exc:  # any failure of an admin's template is reported, not raised
        raise TemplateProblem(
            part, f"{type(exc).__name__}: {exc}", _line(sys.exc_info()[2])
        ) from None


def render(part: str, source: str, context: dict[str, Any]) -> str:
    return render_part(part, compile_part(part, source), context)


def _syntax_message(exc: TemplateSyntaxError) -> str:
    return exc.message or "syntax error"


def _undefined_message(exc: UndefinedError) -> str:
    message = str(exc.message or exc)
    # "'dict object' has no attribute 'nmae'" -> something an editor can read.
    if "has no attribute" in message:
        name = message.rsplit("has no attribute", 1)[1].strip(" '\"")
        return f"unknown value {name!r}; see the list of values beside the editor"
    if message.endswith("is undefined"):
        return f"unknown value {message.split()[0]}; see the list of values beside the editor"
    return message


def _line(tb: TracebackType | None) -> int | None:
    """The template line of the innermost frame that ran template code."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _template_line(tb: TracebackType | None) -> int | None:
    """The template line of the innermost frame of compiled template code, mapped
    from the generated Python's line (as jinja2.debug does for the errors it sees)."""
    line = None
    while tb is not None:
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        if template is not None:
            line = template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return line

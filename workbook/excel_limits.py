"""Excel's own limits, checked on a finished .xlsx file.

LibreOffice and Gnumeric accept workbooks that Microsoft Excel refuses ("We found a problem with
some content…"), and Excel's repair then drops the offending formula, which breaks a return.  This
module enforces the limits Excel documents (Excel specifications and limits; MS-OI29500) so that
the generator's self-check and the tests catch such a workbook without Excel:

- formula text ≤ 8,192 characters (after XML unescaping), function nesting ≤ 64 levels,
  ≤ 255 arguments per function;
- data validation: a literal list source ≤ 255 characters, input-message title ≤ 32 and text ≤ 255,
  error title ≤ 32 and error text ≤ 225;
- defined names: Excel's name syntax, ≤ 255 characters, unique per scope (case-insensitive);
- sheet names: 1–31 characters, none of ``[]:*?/\\``, no leading or trailing apostrophe, unique;
- cell text ≤ 32,767 characters; each header/footer ≤ 255 characters.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path

from lxml import etree
from openpyxl.formula.tokenizer import Token, Tokenizer

FORMULA_MAX = 8192
NESTING_MAX = 64
ARGUMENTS_MAX = 255
LIST_SOURCE_MAX = 255
PROMPT_TITLE_MAX, PROMPT_MAX = 32, 255
ERROR_TITLE_MAX, ERROR_MAX = 32, 225
NAME_MAX = 255
SHEET_NAME_MAX = 31
CELL_TEXT_MAX = 32767
HEADER_FOOTER_MAX = 255

_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_NAME_SYNTAX = re.compile(r"^[^\W\d][\w.]*$|^\\[\w.\\]*$")
_A1_LIKE = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_R1C1_LIKE = re.compile(r"^[Rr](\d*)[Cc]?(\d*)$|^[Cc](\d*)$")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class ExcelLimitError(RuntimeError):
    """A workbook jixiao built breaks Excel's limits (a defect of the template or the code)."""

    def __init__(self, problems: list[str]):
        super().__init__("生成的工作簿超出 Excel 的限制，Excel 打开时会“修复”并删除内容：" + "；".join(problems[:5]))
        self.problems = problems


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def name_problem(name: str) -> str | None:
    """Why Excel would refuse `name` as a defined name (None: it is fine)."""
    if name.startswith("_xlnm."):
        return None
    if not name or len(name) > NAME_MAX:
        return f"名称长度应为 1～{NAME_MAX} 个字符"
    if not _NAME_SYNTAX.match(name):
        return "名称须以字母、下划线或反斜杠开头，只含字母、数字、下划线和句点"
    m = _A1_LIKE.match(name)
    if m and _column_number(m.group(1)) <= 16384 and 1 <= int(m.group(2)) <= 1048576:
        return "名称与单元格地址相同"
    if _R1C1_LIKE.match(name):
        return "名称与 R1C1 地址相同"
    return None


def sheet_name_problem(name: str) -> str | None:
    """Why Excel would refuse `name` as a sheet name (None: it is fine)."""
    if not name or len(name) > SHEET_NAME_MAX:
        return f"工作表名称应为 1～{SHEET_NAME_MAX} 个字符"
    if _SHEET_NAME_BAD.search(name):
        return "工作表名称不能含 [ ] : * ? / \\"
    if name.startswith("'") or name.endswith("'"):
        return "工作表名称不能以单引号开头或结尾"
    return None


def formula_problems(text: str) -> list[str]:
    """Excel's formula limits for one formula's text (without the leading '=')."""
    problems = []
    if len(text) > FORMULA_MAX:
        problems.append(f"公式 {len(text)} 个字符，超过 Excel 上限 {FORMULA_MAX}")
    try:
        tokens = Tokenizer("=" + text).items
    except Exception as exc:  # noqa: BLE001 - an unparseable formula is itself the finding
        return [*problems, f"公式无法解析：{exc}"]
    stack: list[list[int]] = []  # [is_function, separators]
    depth = deepest = 0
    for tok in tokens:
        if tok.type in (Token.FUNC, Token.PAREN) and tok.subtype == Token.OPEN:
            is_func = tok.type == Token.FUNC
            stack.append([int(is_func), 0])
            depth += is_func
            deepest = max(deepest, depth)
        elif tok.type in (Token.FUNC, Token.PAREN) and tok.subtype == Token.CLOSE and stack:
            is_func, seps = stack.pop()
            depth -= is_func
            if is_func and seps + 1 > ARGUMENTS_MAX:
                problems.append(f"函数有 {seps + 1} 个参数，超过 Excel 上限 {ARGUMENTS_MAX}")
        elif tok.type == Token.SEP and tok.subtype == Token.ARG and stack:
            stack[-1][1] += 1
    if deepest > NESTING_MAX:
        problems.append(f"函数嵌套 {deepest} 层，超过 Excel 上限 {NESTING_MAX}")
    return problems


def _text_of(el: etree._Element) -> str:
    """The visible text of an <si> or <is>: its <t> elements, phonetic runs excluded."""
    return "".join(t.text or "" for t in el.iter() if _local(t.tag) == "t"
                   and _local(t.getparent().tag) != "rPh")


def _targets(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id -> (type, resolved target part)."""
    rels = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    if rels not in zf.namelist():
        return {}
    out = {}
    for rel in etree.fromstring(zf.read(rels), _PARSER):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(posixpath.dirname(part), target))
        out[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], path)
    return out


def _sheet_problems(where: str, root: etree._Element) -> list[str]:
    problems = []
    for el in root.iter():
        tag = _local(el.tag)
        if tag == "c":
            ref = el.get("r", "?")
            for child in el:
                ctag = _local(child.tag)
                if ctag == "f" and child.text:
                    problems += [f"{where}!{ref}：{p}" for p in formula_problems(child.text)]
                elif ctag == "is" and len(_text_of(child)) > CELL_TEXT_MAX:
                    problems.append(f"{where}!{ref}：文字超过 {CELL_TEXT_MAX} 个字符")
                elif ctag == "v" and el.get("t") == "str" and len(child.text or "") > CELL_TEXT_MAX:
                    problems.append(f"{where}!{ref}：文字超过 {CELL_TEXT_MAX} 个字符")
        elif tag == "dataValidation":
            place = f"{where}!{el.get('sqref', '?')} 数据校验"
            for attr, limit, label in (("promptTitle", PROMPT_TITLE_MAX, "提示标题"), ("prompt", PROMPT_MAX, "提示文字"),
                                       ("errorTitle", ERROR_TITLE_MAX, "出错标题"), ("error", ERROR_MAX, "出错文字")):
                value = el.get(attr)
                if value is not None and len(value) > limit:
                    problems.append(f"{place}：{label} {len(value)} 个字符，超过 Excel 上限 {limit}")
            for child in el:
                if _local(child.tag) in ("formula1", "formula2") and child.text:
                    text = child.text
                    if el.get("type") == "list" and text.startswith('"') and len(text) - 2 > LIST_SOURCE_MAX:
                        problems.append(f"{place}：下拉列表 {len(text) - 2} 个字符，超过 Excel 上限 {LIST_SOURCE_MAX}")
                    problems += [f"{place}：{p}" for p in formula_problems(text)]
        elif tag in ("oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter"):
            if len(el.text or "") > HEADER_FOOTER_MAX:
                problems.append(f"{where} 页眉页脚 {tag}：{len(el.text or '')} 个字符，超过 Excel 上限 {HEADER_FOOTER_MAX}")
    return problems


def excel_problems(source: str | Path | bytes) -> list[str]:
    """Every place where a .xlsx file breaks one of Excel's limits (an empty list: Excel opens it clean)."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    zf = zipfile.ZipFile(io.BytesIO(data))
    problems: list[str] = []
    workbook_part = "xl/workbook.xml"
    for rel in etree.fromstring(zf.read("_rels/.rels"), _PARSER):
        if rel.get("Type", "").endswith("/officeDocument"):
            workbook_part = rel.get("Target", workbook_part).lstrip("/")
    book = etree.fromstring(zf.read(workbook_part), _PARSER)
    targets = _targets(zf, workbook_part)
    seen_sheets: set[str] = set()
    sheet_parts: list[tuple[str, str]] = []
    for el in book.iter():
        if _local(el.tag) != "sheet":
            continue
        name = el.get("name", "")
        if (why := sheet_name_problem(name)) is not None:
            problems.append(f"工作表「{name}」：{why}")
        if name.lower() in seen_sheets:
            problems.append(f"工作表「{name}」：名称重复")
        seen_sheets.add(name.lower())
        rid = el.get(f"{{{_REL_NS}}}id", "")
        if targets.get(rid, ("", ""))[0] == "worksheet":
            sheet_parts.append((name, targets[rid][1]))
    seen_names: set[tuple[str | None, str]] = set()
    for el in book.iter():
        if _local(el.tag) != "definedName":
            continue
        name, scope = el.get("name", ""), el.get("localSheetId")
        if (why := name_problem(name)) is not None:
            problems.append(f"定义名称 {name}：{why}")
        if (scope, name.lower()) in seen_names:
            problems.append(f"定义名称 {name}：同一范围内重复")
        seen_names.add((scope, name.lower()))
        problems += [f"定义名称 {name}：{p}" for p in formula_problems(el.text or "")]
    for kind, part in targets.values():
        if kind == "sharedStrings":
            for index, si in enumerate(etree.fromstring(zf.read(part), _PARSER)):
                if len(_text_of(si)) > CELL_TEXT_MAX:
                    problems.append(f"共享字符串第 {index} 项：文字超过 {CELL_TEXT_MAX} 个字符")
    for name, part in sheet_parts:
        problems += _sheet_problems(name, etree.fromstring(zf.read(part), _PARSER))
    return problems

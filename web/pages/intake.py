"""收表: upload returns (or a zip of them); each file taken in through the library collect path."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from workbook.intake import Incoming, expand_zip, plausible_mtime, take_in

from ..downloads import clean_name
from ..security import HTTPError, checked_form
from .common import Desk


def routes(desk: Desk) -> list[Route]:
    settings, render, who = desk.settings, desk.render, desk.who

    def upload_page(request: Request) -> Response:
        return render(request, "upload.html", max_file=settings.max_file // 1048576, batch=settings.upload_batch,
                      max_request=settings.max_request // 1048576, max_files=settings.max_files)

    async def upload_post(request: Request) -> Response:
        form = await checked_form(request, max_files=settings.max_files)
        mtimes = [str(m) for m in form.getlist("mtimes")]  # the browser's lastModified of each file (ms)
        uploads = [(u, mtimes[i] if i < len(mtimes) else "") for i, u in enumerate(form.getlist("files"))
                   if isinstance(u, UploadFile) and (u.filename or u.size)]
        if not uploads:
            raise HTTPError(400, "没有选择文件：请选择或拖入报回的 .xlsx 文件（或它们的 .zip 压缩包）")
        incoming: list[Incoming] = []
        for u, ms in uploads:
            name = clean_name(u.filename or "", "未命名文件")
            mtime = plausible_mtime(int(ms) / 1000) if ms.isdigit() else None
            if u.size is not None and u.size > settings.max_file and not name.lower().endswith(".zip"):
                incoming.append(Incoming(name, None, f"文件过大（{u.size / 1048576:.1f} MB，每个文件最多 "
                                                     f"{settings.max_file // 1048576} MB）"))
                continue
            data = await u.read()
            if name.lower().endswith(".zip"):
                incoming.extend(expand_zip(name, data, settings.max_file, settings.max_files))
            elif len(data) > settings.max_file:
                incoming.append(Incoming(name, None, "文件过大"))
            else:
                incoming.append(Incoming(name, data, mtime=mtime))
        if len(incoming) > settings.max_files:
            raise HTTPError(413, f"一次最多上传 {settings.max_files} 个文件（本次 {len(incoming)} 个），请分批上传")
        dry = form.get("dry_run") == "1"
        user = who(request)

        def work():
            with settings.store() as store:
                return take_in(incoming, store, settings.originals, user, dry_run=dry, workers=settings.workers)

        fates = await run_in_threadpool(work)
        template = "upload_results.html" if request.headers.get("hx-request") else "upload.html"
        return render(request, template, fates=fates, dry_run=dry, max_file=settings.max_file // 1048576,
                      batch=settings.upload_batch,
                      max_request=settings.max_request // 1048576, max_files=settings.max_files)

    return [
        Route("/upload", upload_page),
        Route("/upload", upload_post, methods=["POST"]),
    ]

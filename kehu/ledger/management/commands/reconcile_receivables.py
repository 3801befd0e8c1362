"""manage.py reconcile_receivables [--fix]: recompute every customer's receivables and 状态 from
the documents (set-based) and report each drift; --fix writes the recomputed figures."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from kehu.ledger.services import drifts, fix


class Command(BaseCommand):
    help = "核对客户待收款金额：按单据重新计算并报告（--fix 修正）差异"

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="修正发现的差异")

    def handle(self, *args, **options):
        started = time.perf_counter()
        found = drifts()
        for drift in found:
            self.stdout.write(drift.describe())
        elapsed = time.perf_counter() - started
        if not found:
            self.stdout.write(self.style.SUCCESS(f"核对完成：没有差异（用时 {elapsed:.1f} 秒）"))
            return
        if options["fix"]:
            fixed = fix(found)
            self.stdout.write(self.style.SUCCESS(f"已修正 {fixed} 个客户（用时 {elapsed:.1f} 秒）"))
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"发现 {len(found)} 个客户有差异；加 --fix 修正（用时 {elapsed:.1f} 秒）"
                )
            )
            raise SystemExit(1)

"""RunTable: a row-cursor DataTable whose rows are keyed by run id (or reference key); Enter posts RunSelected."""

from __future__ import annotations

from textual.widgets import DataTable

from rpcli.tui.messages import RunSelected


class RunTable(DataTable):
    def key_at_cursor(self) -> str | None:
        """The key of the row under the cursor; None for an empty table or a stale cursor."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - a stale cursor just means no row
            return None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(RunSelected(event.row_key.value))

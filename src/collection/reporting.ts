import type { CollectionEvent, StatusCounters } from "../contract/events.js";
import type { TailkitError } from "../errors/index.js";

/** Who an execution's reports go to. */
export interface ReportTarget {
  executionId: string;
  emit: (event: CollectionEvent) => void;
  /** Row-level error events sent before further ones are only counted. Default 100. */
  maxRowErrorEvents?: number | undefined;
}

/** Reports one row error: of which artifact (or stream), in which operation, numbered for people from 1. */
export type RowErrorReporter = (artifact: string, operation: string, message: string, rowIndex: number) => void;

/** Counts row errors in status, and sends the first `maxRowErrorEvents` of them as events (then says it stops). */
export function rowErrorReporter(target: ReportTarget, status: StatusCounters): RowErrorReporter {
  const { executionId, emit } = target;
  const maxRowErrorEvents = target.maxRowErrorEvents ?? 100;
  let rowErrorEvents = 0;
  return (artifact, operation, message, rowIndex) => {
    status.rowErrors[operation] = (status.rowErrors[operation] ?? 0) + 1;
    if (rowErrorEvents < maxRowErrorEvents) {
      rowErrorEvents++;
      emit({ type: "error", executionId, time: new Date(), artifact, operation, rowIndex, message: `${artifact}: ${message}` });
      if (rowErrorEvents === maxRowErrorEvents) {
        emit({
          type: "error",
          executionId,
          time: new Date(),
          operation,
          message: `${maxRowErrorEvents} row errors reported; further row errors are counted in status only`,
        });
      }
    }
  };
}

/**
 * A source's report() and notice(): what it could not take (an entry of discovery, a stream) is counted failed and
 * reported as an error event of `operation` while the source goes on; a notice is an error event without a failure.
 */
export function problemReporters(
  target: ReportTarget,
  status: StatusCounters,
  operation: string,
): { report(problem: TailkitError): void; notice(message: string): void } {
  const { executionId, emit } = target;
  return {
    report: (problem) => {
      status.artifactsFailed++;
      const { artifact, operation: op } = problem.details;
      emit({ type: "error", executionId, time: new Date(), ...(artifact ? { artifact } : {}), operation: op ?? operation, message: problem.message });
    },
    notice: (message) => emit({ type: "error", executionId, time: new Date(), operation, message }),
  };
}

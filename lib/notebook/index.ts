/** What the notebook imports besides the library: display helpers, session helpers, chart builders. */
export { displayBundle, inKernel, plot, plotlyInit, pre, progressBar, table } from "./display.js";
export { cleanUp, makeDailyArchive, notebookEnvironment, readStackConfig, timeQuery, uploadFiles } from "./session.js";
export type { NotebookEnv, StackConfig, TimedQuery } from "./session.js";
export { latencyChart, sweepChart, timeSeriesChart } from "./charts.js";
export type { Figure } from "./charts.js";
export { execEventText, planText, summaryText } from "../cli/text.js";

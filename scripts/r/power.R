#!/usr/bin/env Rscript
# Reference values for src/stats/power.ts, written as test/fixtures/r/power.json (the tests
# never need R). Regenerate from the repository root with
#
#   Rscript scripts/r/power.R [outdir]
#
# Requires r-base-core and r-cran-jsonlite.
#   analytic power and n    power.prop.test(n, p1, p2, sig.level)  (strict = FALSE, the default),
#                           and with power = ... for n (tol = 1e-12 so the root is exact)
#   exact power             sum over all 2x2 outcomes of dbinom(x1, n1, p1) * dbinom(x2, n2, p2)
#                           where the test gives P <= alpha:
#                           fisher.test(table)$p.value,
#                           chisq.test(table, correct = FALSE / TRUE)$p.value (NaN, an empty
#                           margin, counts as not significant)
suppressPackageStartupMessages(library(jsonlite))

args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[[1]] else file.path("test", "fixtures", "r")
dir.create(outdir, recursive = TRUE, showWarnings = FALSE)

analytic_power <- list()
for (case in list(
  list(n = 50, p1 = 0.4, p2 = 0.2, alpha = 0.05),
  list(n = 108, p1 = 0.4, p2 = 0.2, alpha = 0.05),
  list(n = 117, p1 = 0.4, p2 = 0.2, alpha = 0.05),
  list(n = 140, p1 = 0.4, p2 = 0.2, alpha = 0.05),
  list(n = 100, p1 = 0.3, p2 = 0.15, alpha = 0.01),
  list(n = 30, p1 = 0.1, p2 = 0.6, alpha = 0.05)
)) {
  power <- power.prop.test(n = case$n, p1 = case$p1, p2 = case$p2, sig.level = case$alpha)$power
  analytic_power[[length(analytic_power) + 1]] <- c(case, list(power = power))
}

analytic_n <- list()
for (case in list(
  list(p1 = 0.4, p2 = 0.2, alpha = 0.05, power = 0.9),
  list(p1 = 0.4, p2 = 0.2, alpha = 0.05, power = 0.8),
  list(p1 = 0.3, p2 = 0.15, alpha = 0.01, power = 0.85)
)) {
  n <- power.prop.test(p1 = case$p1, p2 = case$p2, sig.level = case$alpha, power = case$power, tol = 1e-12)$n
  analytic_n[[length(analytic_n) + 1]] <- c(case, list(n = n))
}

exact_power <- function(n1, n2, p1, p2, alpha) {
  w1 <- dbinom(0:n1, n1, p1)
  w2 <- dbinom(0:n2, n2, p2)
  power <- c(fisher = 0, chisq = 0, yates = 0)
  for (x1 in 0:n1) {
    for (x2 in 0:n2) {
      table <- matrix(c(x1, n1 - x1, x2, n2 - x2), nrow = 2, byrow = TRUE)
      w <- w1[x1 + 1] * w2[x2 + 1]
      if (fisher.test(table)$p.value <= alpha) power["fisher"] <- power["fisher"] + w
      p_chisq <- suppressWarnings(chisq.test(table, correct = FALSE)$p.value)
      if (!is.na(p_chisq) && p_chisq <= alpha) power["chisq"] <- power["chisq"] + w
      p_yates <- suppressWarnings(chisq.test(table, correct = TRUE)$p.value)
      if (!is.na(p_yates) && p_yates <= alpha) power["yates"] <- power["yates"] + w
    }
  }
  as.list(power)
}

exact <- list()
for (case in list(
  list(n1 = 117, n2 = 117, p1 = 0.4, p2 = 0.2, alpha = 0.05),
  list(n1 = 116, n2 = 116, p1 = 0.4, p2 = 0.2, alpha = 0.05),
  list(n1 = 40, n2 = 50, p1 = 0.5, p2 = 0.25, alpha = 0.05),
  list(n1 = 12, n2 = 9, p1 = 0.7, p2 = 0.1, alpha = 0.01)
)) {
  message("exact power ", case$n1, " vs ", case$n2)
  exact[[length(exact) + 1]] <- c(case, exact_power(case$n1, case$n2, case$p1, case$p2, case$alpha))
}

fixture <- list(
  meta = list(generatedBy = "scripts/r/power.R", r = R.version.string),
  analyticPower = analytic_power,
  analyticN = analytic_n,
  exactPower = exact
)
path <- file.path(outdir, "power.json")
writeLines(toJSON(fixture, digits = NA, auto_unbox = TRUE, pretty = TRUE), path)
message("wrote ", path)

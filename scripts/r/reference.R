#!/usr/bin/env Rscript
# Reference values for src/stats, computed with R's own functions, written as JSON fixtures that
# the TypeScript tests read (the tests never need R). Regenerate with
#
#   Rscript scripts/r/reference.R [outdir]   # from the repository root; default outdir test/fixtures/r
#
# Requires Debian's r-base-core, r-cran-survival and r-cran-jsonlite. r-cran-epi and
# r-cran-epitools are optional cross-checks: when installed, the script stops unless they agree
# with the values below to 1e-10 (relative); when not installed, the script says so.
#
# Which R function each statistic comes from:
#   Wilson CI                 prop.test(x, n, correct = FALSE)$conf.int  (the score interval;
#                             cross-checked against the closed-form Wilson formula in base R)
#   risk difference CI        Newcombe (1998) method 10, "hybrid score": computed below from the
#                             two Wilson intervals as the paper's formula says; cross-checked
#                             against Epi::ci.pd(method = "Nc") when Epi is installed
#   odds ratio, Woolf CI      exp(log(OR) +- z * sqrt(1/a + 1/b + 1/c + 1/d)) in base R;
#                             cross-checked against epitools::oddsratio.wald when installed
#   Fisher exact P            fisher.test(table)$p.value (two-sided, R's 1e-7 relative tolerance)
#   chi-square                chisq.test(table, correct = TRUE) and (correct = FALSE)
#   Kaplan-Meier              survfit(Surv(time, event) ~ group)  (Greenwood, conf.type = "log")
#   median and its CI         summary(fit)$table, i.e. what print.survfit shows
#   numbers at risk           summary(fit, times = ..., extend = TRUE)
#   log-rank                  survdiff(Surv(time, event) ~ group)
#   Cox                       coxph(..., ties = "efron") (and "breslow"), summary()$coefficients,
#                             $conf.int, Wald P = Pr(>|z|)
#   distributions             pnorm, qnorm, pchisq, qchisq (both tails)
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[[1]] else file.path("test", "fixtures", "r")
dir.create(outdir, recursive = TRUE, showWarnings = FALSE)

have_epi <- requireNamespace("Epi", quietly = TRUE)
have_epitools <- requireNamespace("epitools", quietly = TRUE)

# Non-finite numbers (NA, NaN, Inf) are written as JSON null; 15 significant digits.
write_fixture <- function(value, name) {
  path <- file.path(outdir, name)
  writeLines(toJSON(value, digits = NA, na = "null", auto_unbox = TRUE, pretty = TRUE), path)
  message("wrote ", path)
}

meta <- list(
  generatedBy = "scripts/r/reference.R",
  r = R.version.string,
  survival = as.character(packageVersion("survival")),
  jsonlite = as.character(packageVersion("jsonlite")),
  epi = if (have_epi) as.character(packageVersion("Epi")) else NULL,
  epitools = if (have_epitools) as.character(packageVersion("epitools")) else NULL
)

agree <- function(a, b, what, tol = 1e-12) {
  ok <- (is.na(a) & is.na(b)) | (!is.na(a) & !is.na(b) & abs(a - b) <= tol * pmax(1, abs(a)))
  if (!all(ok)) stop(sprintf("cross-check failed for %s: %s vs %s", what, toString(a), toString(b)))
}

z975 <- qnorm(0.975)

# ---------------------------------------------------------------------------------------------
# Distributions
# ---------------------------------------------------------------------------------------------
norm_x <- c(-40, -38.5, -30, -20, -12.3, -10, -8, -5, -3, -2, -1.959963984540054, -1, -0.5,
            -1e-3, -1e-8, 0, 1e-8, 1e-3, 0.5, 1, 1.96, 2.5, 3, 5, 8, 10)
pnorm_cases <- do.call(rbind, lapply(c(TRUE, FALSE), function(lower) {
  data.frame(x = norm_x, lowerTail = lower, value = pnorm(norm_x, lower.tail = lower))
}))
qnorm_p <- c(1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.01, 0.025, 0.05, 0.1, 0.3, 0.4999,
             0.5, 0.5001, 0.7, 0.9, 0.95, 0.975, 0.99, 0.999, 1 - 1e-10)
qnorm_cases <- do.call(rbind, lapply(c(TRUE, FALSE), function(lower) {
  data.frame(p = qnorm_p, lowerTail = lower, value = qnorm(qnorm_p, lower.tail = lower))
}))
chisq_df <- c(0.5, 1, 2, 3, 4, 5, 7.5, 10, 30, 100)
chisq_x <- c(1e-6, 0.01, 0.1, 0.5, 1, 2, 3.841458820694124, 5, 10, 20, 50, 100, 200)
pchisq_cases <- do.call(rbind, lapply(chisq_df, function(df) do.call(rbind, lapply(c(TRUE, FALSE), function(lower) {
  data.frame(x = chisq_x, df = df, lowerTail = lower, value = pchisq(chisq_x, df, lower.tail = lower))
}))))
qchisq_p <- c(1e-12, 1e-6, 0.001, 0.05, 0.2, 0.5, 0.8, 0.95, 0.999)
qchisq_cases <- do.call(rbind, lapply(c(0.5, 1, 2, 3, 5, 10, 30, 100), function(df) do.call(rbind, lapply(c(TRUE, FALSE), function(lower) {
  data.frame(p = qchisq_p, df = df, lowerTail = lower, value = qchisq(qchisq_p, df, lower.tail = lower))
}))))
write_fixture(list(meta = meta, pnorm = pnorm_cases, qnorm = qnorm_cases, pchisq = pchisq_cases,
                   qchisq = qchisq_cases), "distributions.json")

# ---------------------------------------------------------------------------------------------
# Two proportions (treated vs control)
# ---------------------------------------------------------------------------------------------
wilson <- function(x, n) {
  ci <- suppressWarnings(prop.test(x, n, correct = FALSE))$conf.int
  # The closed-form Wilson score interval, to show prop.test's interval is exactly it.
  p <- x / n
  centre <- (x + z975^2 / 2) / (n + z975^2)
  half <- z975 * sqrt(n) / (n + z975^2) * sqrt(p * (1 - p) + z975^2 / (4 * n))
  agree(c(ci[1], ci[2]), c(max(0, centre - half), min(1, centre + half)), "Wilson formula", 1e-10)
  c(ci[1], ci[2])
}

woolf <- function(a, b, c, d) {
  est <- (a * d) / (b * c)
  se <- sqrt(1 / a + 1 / b + 1 / c + 1 / d)
  c(est, exp(log(est) - z975 * se), exp(log(est) + z975 * se))
}

proportion_cases <- list(
  list(name = "moderate", treated = c(15, 20), control = c(8, 20)),
  list(name = "zero-events-treated", treated = c(0, 10), control = c(5, 12)),
  list(name = "all-events-treated", treated = c(10, 10), control = c(3, 10)),
  list(name = "no-events-either-arm", treated = c(0, 5), control = c(0, 7)),
  list(name = "all-events-both-arms", treated = c(25, 25), control = c(25, 25)),
  list(name = "large", treated = c(450, 1000), control = c(380, 1000)),
  list(name = "tiny", treated = c(1, 3), control = c(2, 2)),
  list(name = "equal", treated = c(7, 14), control = c(7, 14)),
  list(name = "symmetric-fisher", treated = c(3, 6), control = c(3, 6)),
  list(name = "single-patient-arms", treated = c(1, 1), control = c(0, 1)),
  list(name = "immunosep-like", treated = c(12, 36), control = c(5, 36)),
  list(name = "rare-events", treated = c(2, 50), control = c(9, 48)),
  list(name = "tea-tasting", treated = c(3, 4), control = c(1, 4)),
  list(name = "newcombe-example-a", treated = c(56, 70), control = c(48, 80)),
  list(name = "newcombe-example-b", treated = c(9, 10), control = c(3, 10)),
  list(name = "newcombe-example-f", treated = c(10, 10), control = c(0, 20))
)

proportions <- lapply(proportion_cases, function(case) {
  x1 <- case$treated[1]; n1 <- case$treated[2]
  x2 <- case$control[1]; n2 <- case$control[2]
  p1 <- x1 / n1; p2 <- x2 / n2
  w1 <- wilson(x1, n1); w2 <- wilson(x2, n2)
  rd <- p1 - p2
  # Newcombe 1998, method 10: L = d - sqrt((p1 - l1)^2 + (u2 - p2)^2),
  #                           U = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)
  rd_ci <- c(rd - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2), rd + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2))
  if (have_epi) {
    epi <- Epi::ci.pd(aa = x1, bb = x2, cc = n1 - x1, dd = n2 - x2, method = "Nc", print = FALSE)
    agree(c(epi[1, 6], epi[1, 7]), rd_ci, paste("Epi::ci.pd", case$name), 1e-10)
  }
  # 2x2 table: rows treated/control, columns event/no event.
  a <- x1; b <- n1 - x1; c <- x2; d <- n2 - x2
  tab <- matrix(c(a, c, b, d), nrow = 2, dimnames = list(c("treated", "control"), c("event", "none")))
  raw <- suppressWarnings(woolf(a, b, c, d))
  undefined <- (a + c == 0) || (b + d == 0)
  zero_cell <- any(c(a, b, c, d) == 0)
  corrected <- if (zero_cell && !undefined) woolf(a + 0.5, b + 0.5, c + 0.5, d + 0.5) else rep(NA, 3)
  if (have_epitools && !zero_cell) {
    # epitools wants exposure in rows with the reference first and the outcome "yes" in column 2.
    et <- matrix(c(d, b, c, a), nrow = 2, dimnames = list(c("control", "treated"), c("none", "event")))
    e <- suppressWarnings(epitools::oddsratio.wald(et))$measure["treated", ]
    agree(unname(e), raw, paste("epitools::oddsratio.wald", case$name), 1e-10)
  }
  if (have_epitools && zero_cell && !undefined) {
    et <- matrix(c(d, b, c, a) + 0.5, nrow = 2, dimnames = list(c("control", "treated"), c("none", "event")))
    e <- suppressWarnings(epitools::oddsratio.wald(et))$measure["treated", ]
    agree(unname(e), corrected, paste("epitools::oddsratio.wald(+0.5)", case$name), 1e-10)
  }
  chi_yates <- suppressWarnings(chisq.test(tab, correct = TRUE))
  chi_plain <- suppressWarnings(chisq.test(tab, correct = FALSE))
  list(
    name = case$name,
    treated = list(events = x1, n = n1, proportion = p1, ci95 = w1),
    control = list(events = x2, n = n2, proportion = p2, ci95 = w2),
    riskDifference = list(estimate = rd, ci95 = rd_ci),
    oddsRatioWoolfRaw = list(estimate = raw[1], ci95 = raw[2:3]),
    oddsRatioUndefined = undefined,
    oddsRatioZeroCell = zero_cell,
    oddsRatioHaldane = list(estimate = corrected[1], ci95 = corrected[2:3]),
    fisherP = fisher.test(tab)$p.value,
    chiSquareYates = list(statistic = unname(chi_yates$statistic), p = chi_yates$p.value),
    chiSquarePearson = list(statistic = unname(chi_plain$statistic), p = chi_plain$p.value)
  )
})
write_fixture(list(meta = meta, z = z975, cases = proportions), "proportions.json")

# ---------------------------------------------------------------------------------------------
# Survival
# ---------------------------------------------------------------------------------------------
lung_cc <- na.omit(survival::lung[, c("time", "status", "age", "sex")])

set.seed(20240801)
synth_n <- 400
synth_group <- rep(c("control", "treated"), each = synth_n)
synth_rate <- ifelse(synth_group == "treated", 0.035, 0.05)
synth_event_time <- rexp(2 * synth_n, synth_rate)
synth_censor_time <- pmin(runif(2 * synth_n, 5, 150), 90)
synth_time <- ceiling(pmin(synth_event_time, synth_censor_time)) # whole days: many ties
synth_event <- as.integer(synth_event_time <= synth_censor_time)

datasets <- list(
  list(name = "aml", description = "survival::aml (Embury 1977): maintenance chemotherapy in AML; ties",
       time = survival::aml$time, event = survival::aml$status, group = as.character(survival::aml$x),
       reference = "Maintained", at = c(0, 10, 20, 30, 50, 100, 200)),
  list(name = "ties", description = "integer days with many ties, events and censorings at the same times",
       time = c(1, 1, 2, 2, 2, 3, 4, 4, 5, 5, 6, 7, 7, 8, 10,
                1, 2, 2, 3, 3, 3, 4, 5, 5, 5, 6, 6, 8, 9, 9),
       event = c(1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1,
                 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0),
       group = rep(c("A", "B"), each = 15), reference = "A", at = c(1, 2, 5, 7.5, 9, 10)),
  list(name = "heavy-censoring", description = "85% censored; medians and most confidence limits not reached",
       time = c(3, 5, 5, 8, 10, 12, 12, 15, 18, 20, 20, 21, 24, 25, 27, 28, 28, 28, 28, 28,
                4, 6, 9, 11, 13, 14, 16, 19, 20, 22, 23, 25, 26, 28, 28, 28, 28, 28, 28, 28),
       event = c(1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
                 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
       group = rep(c("control", "treated"), each = 20), reference = "control", at = c(7, 14, 28, 35)),
  list(name = "small-groups", description = "groups of 3 and 4; the last observation of A is an event (S = 0)",
       time = c(2, 5, 7, 3, 4, 6, 9), event = c(1, 1, 1, 1, 0, 1, 0),
       group = c("A", "A", "A", "B", "B", "B", "B"), reference = "B", at = c(1, 5, 7, 8, 10)),
  list(name = "median-exactly-half", description = "survival sits at exactly 0.5 over an interval: median is the midpoint",
       time = c(1, 2, 3, 4, 5, 6, 2, 4, 4, 6, 8, 10, 12, 14),
       event = c(1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0),
       group = c(rep("A", 6), rep("B", 8)), reference = "A", at = c(3, 4, 6)),
  list(name = "no-events-in-reference", description = "the reference group has no event: the Cox coefficient is infinite",
       time = c(5, 6, 7, 8, 9, 10, 1, 2, 3, 4, 5, 6), event = c(0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0),
       group = c(rep("placebo", 6), rep("active", 6)), reference = "placebo", at = c(2, 4)),
  list(name = "three-groups", description = "log-rank with three groups (2 df); Cox with two indicators",
       time = c(1, 1, 2, 2, 2, 3, 4, 4, 5, 5, 6, 7, 7, 8, 10,
                1, 2, 2, 3, 3, 3, 4, 5, 5, 5, 6, 6, 8, 9, 9,
                1, 3, 4, 6, 7, 9, 11, 12),
       event = c(1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1,
                 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0,
                 1, 1, 0, 1, 1, 0, 1, 1),
       group = c(rep("A", 15), rep("B", 15), rep("C", 8)), reference = "A", at = c(5)),
  list(name = "synthetic-800", description = "simulated exponential survival, whole days, administrative censoring at 90 (set.seed(20240801))",
       time = synth_time, event = synth_event, group = synth_group, reference = "control", at = c(7, 14, 28, 60, 90))
)

km_rows <- function(fit) {
  data.frame(time = fit$time, nRisk = fit$n.risk, nEvent = fit$n.event, nCensor = fit$n.censor,
             survival = fit$surv, stdErr = ifelse(is.finite(fit$std.err), fit$std.err, NA),
             lower = fit$lower, upper = fit$upper)
}

capture_warnings <- function(expr) {
  warnings <- character(0)
  value <- withCallingHandlers(expr, warning = function(w) {
    warnings <<- c(warnings, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  list(value = value, warnings = warnings)
}

cox_summary <- function(fit, warnings) {
  s <- summary(fit)
  # I(): one value per coefficient, kept as a JSON array even with a single covariate.
  list(
    coef = I(unname(s$coefficients[, "coef"])),
    se = I(unname(s$coefficients[, "se(coef)"])),
    hazardRatio = I(unname(s$conf.int[, "exp(coef)"])),
    lower = I(unname(s$conf.int[, "lower .95"])),
    upper = I(unname(s$conf.int[, "upper .95"])),
    z = I(unname(s$coefficients[, "z"])),
    p = I(unname(s$coefficients[, "Pr(>|z|)"])),
    variance = unname(fit$var),
    loglik = fit$loglik,
    iterations = fit$iter,
    scoreTest = unname(s$sctest[c("test", "pvalue")]),
    likelihoodRatioTest = unname(s$logtest[c("test", "pvalue")]),
    infiniteWarning = any(grepl("infinite", warnings)),
    warnings = I(warnings)
  )
}

survival_results <- lapply(datasets, function(ds) {
  df <- data.frame(time = ds$time, event = ds$event, group = ds$group, stringsAsFactors = FALSE)
  levels <- sort(unique(df$group))
  df$group <- factor(df$group, levels = c(ds$reference, setdiff(levels, ds$reference)))
  fit <- survfit(Surv(time, event) ~ group, data = df)
  table <- summary(fit)$table
  groups <- list()
  for (i in seq_along(levels(df$group))) {
    level <- levels(df$group)[i]
    sub <- fit[i]
    at <- summary(sub, times = ds$at, extend = TRUE)
    groups[[level]] <- list(
      n = unname(table[i, "n.start"]), events = unname(table[i, "events"]),
      median = unname(table[i, "median"]),
      medianCi95 = unname(c(table[i, "0.95LCL"], table[i, "0.95UCL"])),
      km = km_rows(sub),
      at = data.frame(time = at$time, nRisk = at$n.risk, survival = at$surv, lower = at$lower, upper = at$upper)
    )
  }
  sd <- survdiff(Surv(time, event) ~ group, data = df)
  logrank <- list(chiSquare = sd$chisq, df = length(sd$n) - 1,
                  p = pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE),
                  observed = unname(sd$obs), expected = unname(sd$exp))
  # Cox: one 0/1 indicator per non-reference group (a single binary covariate for two groups).
  x <- sapply(levels(df$group)[-1], function(l) as.numeric(df$group == l))
  if (!is.matrix(x)) x <- matrix(x, ncol = 1)
  efron <- capture_warnings(coxph(Surv(df$time, df$event) ~ x, ties = "efron"))
  breslow <- capture_warnings(coxph(Surv(df$time, df$event) ~ x, ties = "breslow"))
  list(
    name = ds$name, description = ds$description,
    data = list(time = ds$time, event = ds$event, group = ds$group),
    reference = ds$reference, levels = levels(df$group), at = I(ds$at),
    groups = groups, logRank = logrank,
    coxEfron = cox_summary(efron$value, efron$warnings),
    coxBreslow = cox_summary(breslow$value, breslow$warnings)
  )
})

# Cox with continuous and binary covariates (general covariates): survival::lung, complete cases.
lung_efron <- coxph(Surv(time, status == 2) ~ age + sex, data = lung_cc, ties = "efron")
lung_breslow <- coxph(Surv(time, status == 2) ~ age + sex, data = lung_cc, ties = "breslow")
lung <- list(
  name = "lung-age-sex", description = "survival::lung complete cases: Cox on age (years) and sex (1 = male, 2 = female)",
  data = list(time = lung_cc$time, event = as.integer(lung_cc$status == 2), age = lung_cc$age, sex = lung_cc$sex),
  covariates = c("age", "sex"),
  coxEfron = cox_summary(lung_efron, character(0)),
  coxBreslow = cox_summary(lung_breslow, character(0))
)

write_fixture(list(meta = meta, datasets = survival_results, coxCovariates = list(lung)), "survival.json")

# CSV inputs for the CLI tests (`immunoguide analyse survival`), same data as above.
for (ds in datasets[c(1, 3)]) {
  path <- file.path(outdir, paste0(ds$name, ".csv"))
  write.csv(data.frame(patient = sprintf("P%03d", seq_along(ds$time)), arm = ds$group,
                       days = ds$time, died = ds$event),
            path, row.names = FALSE, quote = FALSE)
  message("wrote ", path)
}
if (!have_epi) message("note: Epi not installed; Newcombe CI not cross-checked against Epi::ci.pd")
if (!have_epitools) message("note: epitools not installed; Woolf CI not cross-checked against epitools")

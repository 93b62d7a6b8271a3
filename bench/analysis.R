#!/usr/bin/env Rscript
# The R side of bench/analysis.ts: the same full trial analysis and the same power simulation,
# in idiomatic R (base R + survival), timed in-process. Called by bench/analysis.ts as
#
#   Rscript bench/analysis.R DIR REPEATS REPLICATES
#
# DIR holds patients.csv and sofa.csv (written by the TypeScript side from the same synthetic
# trial). Prints one JSON document: timings in milliseconds (median of REPEATS runs) and the key
# results, which the TypeScript side checks against its own.
#
# Endpoint rules as src/clinical/endpoints.ts (immunosep-sap 1.0.0): days after death score 24,
# missing days carry the last observation forward from day 1 on, responder when day-1 SOFA minus
# the mean of days 2-9 (2-15) > 1.4; mortality by day 28/90 (NA when lost before); reversal by
# day 15; time to death censored at 90, time to reversal at the last assessment, death or day 15.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
dir <- args[[1]]
repeats <- as.integer(args[[2]])
replicates <- as.integer(args[[3]])

ms <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  force(expr)
  1000 * (proc.time()[["elapsed"]] - t0)
}

load_data <- function() {
  patients <- read.csv(file.path(dir, "patients.csv"), stringsAsFactors = FALSE)
  sofa <- read.csv(file.path(dir, "sofa.csv"), stringsAsFactors = FALSE)
  list(patients = patients, sofa = sofa)
}

wilson <- function(x, n) as.numeric(prop.test(x, n, correct = FALSE)$conf.int)

compare <- function(a1, n1, a0, n0) {
  w1 <- wilson(a1, n1)
  w0 <- wilson(a0, n0)
  p1 <- a1 / n1
  p0 <- a0 / n0
  d <- p1 - p0
  rd <- c(d, d - sqrt((p1 - w1[1])^2 + (w0[2] - p0)^2), d + sqrt((w1[2] - p1)^2 + (p0 - w0[1])^2))
  cells <- c(a1, n1 - a1, a0, n0 - a0)
  if (any(cells == 0)) cells <- cells + 0.5
  or <- (cells[1] * cells[4]) / (cells[2] * cells[3])
  se <- sqrt(sum(1 / cells))
  table <- matrix(c(a1, n1 - a1, a0, n0 - a0), nrow = 2, byrow = TRUE)
  list(
    rd = rd,
    or = c(or, exp(log(or) - qnorm(0.975) * se), exp(log(or) + qnorm(0.975) * se)),
    fisherP = fisher.test(table)$p.value,
    chisqP = suppressWarnings(chisq.test(table, correct = FALSE)$p.value),
    yatesP = suppressWarnings(chisq.test(table)$p.value)
  )
}

analyse <- function(data) {
  p <- data$patients
  s <- data$sofa
  n <- nrow(p)
  row <- match(s$id, p$id)
  # Observed totals, days 1-15, as a patients x days matrix.
  observed <- matrix(NA_real_, n, 15)
  keep <- s$day >= 1 & s$day <= 15 & !is.na(s$total)
  observed[cbind(row[keep], s$day[keep])] <- s$total[keep]
  scored <- observed
  death <- p$death_day
  for (d in 2:15) {
    after_death <- !is.na(death) & d > death
    missing <- is.na(scored[, d]) & !after_death
    scored[missing, d] <- scored[missing, d - 1]
    scored[after_death, d] <- 24
  }
  baseline <- observed[, 1]
  mean_2_9 <- rowMeans(scored[, 2:9])
  mean_2_15 <- rowMeans(scored[, 2:15])
  responder_primary <- ifelse(is.na(baseline) | is.na(mean_2_9), NA, baseline - mean_2_9 > 1.4)
  responder_secondary <- ifelse(is.na(baseline) | is.na(mean_2_15), NA, baseline - mean_2_15 > 1.4)
  mortality <- function(day) ifelse(!is.na(death), death <= day, ifelse(p$last_alive_day >= day, FALSE, NA))
  reversal <- ifelse(p$reversed == "yes", p$first_reversal_at <= 15, ifelse(p$reversed == "no", FALSE, NA))
  infection <- as.logical(p$infection_resolved)
  endpoints <- list(
    "responder-primary" = responder_primary,
    "responder-secondary" = responder_secondary,
    "mortality-28" = mortality(28),
    "mortality-90" = mortality(90),
    "reversal" = reversal,
    "infection-resolution" = infection
  )

  analysed <- p$analysed == 1
  active <- analysed & p$arm == "active"
  placebo <- analysed & p$arm == "placebo"
  binary <- list()
  for (name in names(endpoints)) {
    v <- endpoints[[name]]
    for (subgroup in c("all", "MALS", "immunoparalysis")) {
      in_group <- if (subgroup == "all") rep(TRUE, n) else p$stratum == subgroup
      a <- v[active & in_group & !is.na(v)]
      b <- v[placebo & in_group & !is.na(v)]
      result <- list(active = c(sum(a), length(a)), placebo = c(sum(b), length(b)))
      if (length(a) > 0 && length(b) > 0) result <- c(result, compare(sum(a), length(a), sum(b), length(b)))
      binary[[paste(name, subgroup)]] <- result
    }
  }

  # Time to death, censored at day 90; placebo is the reference.
  time <- ifelse(!is.na(death) & death <= 90, death, pmin(ifelse(is.na(death), p$last_alive_day, 90), 90))
  event <- !is.na(death) & death <= 90
  arm <- factor(p$arm, levels = c("placebo", "active"))
  surv_data <- data.frame(time = time, event = event, arm = arm)[analysed, ]
  fit <- survfit(Surv(time, event) ~ arm, data = surv_data)
  at_risk <- summary(fit, times = c(0, 15, 30, 45, 60, 75, 90), extend = TRUE)
  medians <- summary(fit)$table[, "median"]
  logrank <- survdiff(Surv(time, event) ~ arm, data = surv_data)
  cox <- coxph(Surv(time, event) ~ arm, data = surv_data, ties = "efron")

  # Time to reversal.
  has_reversal <- analysed & !is.na(p$reversed)
  end <- pmin(15, ifelse(is.na(death), Inf, death))
  rtime <- ifelse(p$reversed == "yes" & p$first_reversal_at <= 15, p$first_reversal_at,
           ifelse(p$reversed == "yes", end,
           ifelse(p$reversed == "no", pmin(ifelse(is.na(p$assessed_through_day), 15, p$assessed_through_day), end),
                  pmin(ifelse(is.na(p$assessed_through_day), 1, p$assessed_through_day), end))))
  revent <- p$reversed == "yes" & p$first_reversal_at <= 15
  rev_data <- data.frame(time = rtime, event = revent, arm = arm)[has_reversal, ]
  rfit <- survfit(Surv(time, event) ~ arm, data = rev_data)
  rlogrank <- survdiff(Surv(time, event) ~ arm, data = rev_data)
  rcox <- coxph(Surv(time, event) ~ arm, data = rev_data, ties = "efron")

  # Baseline table and SOFA trajectories per arm and overall.
  groups <- list(active = active, placebo = placebo, total = analysed)
  baseline_table <- lapply(groups, function(g) list(
    age = c(mean(p$age[g], na.rm = TRUE), sd(p$age[g], na.rm = TRUE)),
    sex = table(p$sex[g]),
    stratum = table(p$stratum[g]),
    sofa1 = c(mean(baseline[g], na.rm = TRUE), sd(baseline[g], na.rm = TRUE)),
    infection = table(p$infection[g]),
    ferritin = quantile(p$ferritin[g], c(0.25, 0.5, 0.75), na.rm = TRUE),
    hla_dr = quantile(p$hla_dr[g], c(0.25, 0.5, 0.75), na.rm = TRUE),
    site = table(p$site[g])
  ))
  trajectories <- lapply(groups[1:2], function(g) {
    m <- scored[g, , drop = FALSE]
    means <- colMeans(m, na.rm = TRUE)
    sds <- apply(m, 2, sd, na.rm = TRUE)
    counts <- colSums(!is.na(m))
    cbind(means, means - 1.959964 * sds / sqrt(counts), means + 1.959964 * sds / sqrt(counts))
  })

  list(
    primary = binary[["responder-primary all"]],
    hazardRatio = unname(exp(coef(cox))),
    logRankP = pchisq(logrank$chisq, 1, lower.tail = FALSE),
    reversalLogRankP = pchisq(rlogrank$chisq, 1, lower.tail = FALSE),
    reversalHazardRatio = unname(exp(coef(rcox)))
  )
}

simulate_power <- function(replicates) {
  set.seed(1)
  n1 <- rbinom(replicates, 140, 0.85)
  n2 <- rbinom(replicates, 140, 0.85)
  x1 <- rbinom(replicates, n1, 0.4)
  x2 <- rbinom(replicates, n2, 0.2)
  p <- vapply(seq_len(replicates), function(r) {
    fisher.test(matrix(c(x1[r], n1[r] - x1[r], x2[r], n2[r] - x2[r]), nrow = 2, byrow = TRUE))$p.value
  }, numeric(1))
  mean(p <= 0.05)
}

median_ms <- function(f) {
  times <- numeric(repeats)
  value <- NULL
  for (i in seq_len(repeats)) times[i] <- ms(value <- f())
  list(ms = median(times), value = value)
}

loaded <- median_ms(load_data)
data <- loaded$value
analysis <- median_ms(function() analyse(data))
power <- median_ms(function() simulate_power(replicates))

cat(toJSON(list(
  r = R.version.string,
  survival = as.character(packageVersion("survival")),
  loadMs = loaded$ms,
  analysisMs = analysis$ms,
  powerMs = power$ms,
  results = analysis$value,
  power = power$value
), auto_unbox = TRUE, digits = NA))
cat("\n")

/** Typed access to the R reference fixtures written by scripts/r/reference.R. */
import { readFileSync } from 'node:fs';

export function readRFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/r/${name}`, import.meta.url), 'utf8')) as T;
}

type Pair = [number | null, number | null];

export interface ProportionCase {
  name: string;
  treated: { events: number; n: number; proportion: number; ci95: [number, number] };
  control: { events: number; n: number; proportion: number; ci95: [number, number] };
  riskDifference: { estimate: number; ci95: [number, number] };
  oddsRatioWoolfRaw: { estimate: number | null; ci95: Pair };
  oddsRatioUndefined: boolean;
  oddsRatioZeroCell: boolean;
  oddsRatioHaldane: { estimate: number | null; ci95: Pair };
  fisherP: number;
  chiSquareYates: { statistic: number | null; p: number | null };
  chiSquarePearson: { statistic: number | null; p: number | null };
}

export interface ProportionsFixture {
  z: number;
  cases: ProportionCase[];
}

export interface KmRowFixture {
  time: number;
  nRisk: number;
  nEvent: number;
  nCensor: number;
  survival: number;
  stdErr: number | null;
  lower: number | null;
  upper: number | null;
}

export interface CoxFixture {
  coef: number[];
  se: number[];
  hazardRatio: number[];
  lower: number[];
  upper: number[];
  z: number[];
  p: number[];
  variance: number[][];
  loglik: [number, number];
  iterations: number;
  scoreTest: [number, number];
  likelihoodRatioTest: [number, number];
  infiniteWarning: boolean;
  warnings: string[];
}

export interface SurvivalDatasetFixture {
  name: string;
  description: string;
  data: { time: number[]; event: number[]; group: string[] };
  reference: string;
  levels: string[];
  at: number[];
  groups: Record<
    string,
    {
      n: number;
      events: number;
      median: number | null;
      medianCi95: Pair;
      km: KmRowFixture[];
      at: Array<{ time: number; nRisk: number; survival: number; lower: number | null; upper: number | null }>;
    }
  >;
  logRank: { chiSquare: number; df: number; p: number; observed: number[]; expected: number[] };
  coxEfron: CoxFixture;
  coxBreslow: CoxFixture;
}

export interface SurvivalFixture {
  datasets: SurvivalDatasetFixture[];
  coxCovariates: Array<{
    name: string;
    data: { time: number[]; event: number[]; age: number[]; sex: number[] };
    covariates: string[];
    coxEfron: CoxFixture;
    coxBreslow: CoxFixture;
  }>;
}

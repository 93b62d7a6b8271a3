/**
 * Minimal typings for @lhncbc/ucum-lhc (CommonJS, ships no types): only what
 * src/clinical/units.ts uses.
 */
declare module '@lhncbc/ucum-lhc' {
  export interface UcumConversionOptions {
    /** g/mol; required for mass <-> amount-of-substance conversions, ignored otherwise. */
    molecularWeight?: number;
    suggest?: boolean;
  }

  export interface UcumConversionResult {
    /** 'succeeded' may still carry messages, e.g. "We assumed you meant G" for "Gauss". */
    status: 'succeeded' | 'failed' | 'error';
    toVal: number | null;
    msg: string[];
  }

  export interface UcumValidationResult {
    status: 'valid' | 'invalid' | 'error';
    ucumCode: string | null;
    msg: string[];
  }

  export interface UcumLhcUtils {
    convertUnitTo(
      fromUnitCode: string,
      fromValue: number,
      toUnitCode: string,
      options?: UcumConversionOptions,
    ): UcumConversionResult;
    validateUnitString(unit: string, suggest?: boolean): UcumValidationResult;
  }

  const ucum: {
    UcumLhcUtils: { getInstance(): UcumLhcUtils };
  };
  export default ucum;
}

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

  /** A parsed unit (the library's Unit class; only what units.ts uses). */
  export interface UcumUnit {
    /** The value in this unit of `num` of `fromUnit` (throws when not commensurable). */
    convertFrom(num: number, fromUnit: UcumUnit): number;
  }

  export interface UcumSpecifiedUnit {
    unit?: UcumUnit | null;
    retMsg: string[];
    status: 'valid' | 'invalid' | 'error';
  }

  export interface UcumLhcUtils {
    getSpecifiedUnit(unit: string, purpose: 'validate' | 'convert', suggest?: boolean): UcumSpecifiedUnit;
    detectConversionType(fromUnit: UcumUnit, toUnit: UcumUnit): 'normal' | 'mol|mass' | 'eq|mass' | 'eq|mol' | 'eq|mol|mass';
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

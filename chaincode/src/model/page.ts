import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** What every list transaction takes besides its filter: how many rows, and where the last page ended. */
export class PageDto {
  @IsOptional() @IsInt() @Min(1) @Max(MAX_PAGE_SIZE) pageSize?: number;
  /** the `bookmark` of the previous page's answer */
  @IsOptional() @IsString() @Length(1, 1024) bookmark?: string;
}

/** One page of a list: `more` says whether another page follows, to be asked for with `bookmark`. */
export interface Page<T> {
  items: T[];
  more: boolean;
  /** empty when there is no more */
  bookmark: string;
}
